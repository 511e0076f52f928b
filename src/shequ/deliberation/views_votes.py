"""Vote pages (表决): staff create, open, enter paper ballots and close; residents vote on a phone.

Loading goes through ``vote_selectors`` (a resident of another compound gets 404); every change is one
service of ``votes.py``. While a vote is open nobody sees how others voted — staff see turnout only;
the result appears when the vote closes. Secret or not, these pages never pair a voter with an option
except the voter's own ballot shown to the voter.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from shequ.accounts.roles import Capability
from shequ.core.errors import Conflict, PermissionDenied, ValidationFailed
from shequ.core.forms import apply_service_errors, paginate
from shequ.core.scope import actor_can_at, restrict
from shequ.deliberation import vote_selectors, votes
from shequ.deliberation.choices import Electorate, TopicStatus, VoteStatus
from shequ.deliberation.forms_votes import PaperBallotForm, VoteForm
from shequ.deliberation.models import Topic, Vote
from shequ.deliberation.views_public import result_display
from shequ.registry.choices import PlaceKind
from shequ.registry.models import Person, Place
from shequ.web.http import domain_errors

MANAGE = Capability.DELIBERATION_MANAGE


def _can_manage(request: HttpRequest, vote: Vote | None = None) -> bool:
    if vote is None:
        return request.user.has_capability(MANAGE)  # type: ignore[union-attr]
    return actor_can_at(request.user, vote.scope_path, MANAGE)


def _vote_places(actor: Any) -> QuerySet[Place]:
    """Communities and compounds where the actor may organise a vote."""
    places = Place.objects.filter(kind__in=[PlaceKind.COMMUNITY, PlaceKind.COMPOUND])
    return restrict(places, actor, capability=MANAGE, field="path").order_by("path")


def _vote_topics(actor: Any) -> QuerySet[Topic]:
    topics = Topic.objects.filter(status__in=[TopicStatus.OPEN, TopicStatus.SCHEDULED])
    return restrict(topics, actor, capability=MANAGE).select_related("community").order_by("-created_at")


@login_required
@domain_errors
def vote_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in VoteStatus.values:
        status = ""
    items = vote_selectors.vote_list(actor=request.user, status=status or None)
    page, query = paginate(request, items)
    return render(request, "deliberation/votes_list.html", {
        "page_obj": page, "query": query, "status": status, "statuses": VoteStatus.choices,
        "can_create": _can_manage(request), "now": timezone.now(),
    })


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def vote_create(request: HttpRequest) -> HttpResponse:
    if not _can_manage(request):
        raise PermissionDenied()
    initial: dict[str, Any] = {}
    topic_id = request.GET.get("topic")
    topics = _vote_topics(request.user)
    if topic_id and topic_id.isdigit():
        topic = topics.filter(pk=int(topic_id)).first()
        if topic is not None:
            initial.update(topic=topic, title=topic.title, description=topic.body)
    form = VoteForm(request.POST or None, initial=initial, places=_vote_places(request.user), topics=topics)
    if request.method == "POST" and form.is_valid():
        try:
            vote = votes.vote_create(actor=request.user, **form.service_arguments())
        except ValidationFailed as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("已创建表决草稿。核对无误后点击“开始投票”。"))
            return redirect("deliberation:vote_detail", pk=vote.pk)
    return render(request, "deliberation/votes_form.html", {"form": form})


def _ballot_state(request: HttpRequest, vote: Vote) -> dict[str, Any]:
    """What the signed-in voter may do and has done (their own ballot only)."""
    mine = vote_selectors.own_ballots(actor=request.user, vote=vote)
    targets = votes.electorate_targets(vote, person_id=request.user.person_id) if (  # type: ignore[union-attr]
        vote.electorate_snapshot and getattr(request.user, "person_id", None)) else []
    now = timezone.now()
    return {
        "mine": mine,
        "my_option": mine[0].option if mine else None,
        "my_units": [b.unit for b in mine if b.unit_id],
        "eligible": bool(targets),
        "accepting": vote.status == VoteStatus.OPEN and vote.opens_at <= now < vote.closes_at,
        "not_started": vote.status == VoteStatus.OPEN and now < vote.opens_at,
    }


@login_required
@domain_errors
def vote_detail(request: HttpRequest, pk: int) -> HttpResponse:
    vote = vote_selectors.vote_get(actor=request.user, vote_id=pk)
    context: dict[str, Any] = {
        "vote": vote, "options": list(vote.options.all()), "can_manage": _can_manage(request, vote),
        "turnout": vote_selectors.vote_turnout(vote=vote) if vote.status != VoteStatus.DRAFT else None,
        "result": result_display(vote) if vote.status == VoteStatus.CLOSED else None,
        "community_path": vote.scope_path[:12],
        **_ballot_state(request, vote),
    }
    return render(request, "deliberation/votes_detail.html", context)


@login_required
@domain_errors
@require_POST
def vote_cast(request: HttpRequest, pk: int) -> HttpResponse:
    vote = vote_selectors.vote_get(actor=request.user, vote_id=pk)
    try:
        rows = votes.ballot_cast(actor=request.user, vote=vote, option=request.POST.get("option", ""))
    except (ValidationFailed, Conflict, PermissionDenied) as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("已投票：%(option)s。截止前可以修改。") % {"option": rows[0].option.label})
    return redirect("deliberation:vote_detail", pk=vote.pk)


@login_required
@domain_errors
@require_POST
def vote_open(request: HttpRequest, pk: int) -> HttpResponse:
    vote = vote_selectors.vote_get(actor=request.user, vote_id=pk)
    try:
        votes.vote_open(actor=request.user, vote=vote)
    except (ValidationFailed, Conflict) as exc:
        for msgs in getattr(exc, "errors", {}).values() or [[exc.message]]:
            for message in msgs:
                messages.error(request, str(message))
    else:
        messages.success(request, _("投票已开始，投票人名册已封存，并已通知投票人。"))
    return redirect("deliberation:vote_detail", pk=vote.pk)


@login_required
@domain_errors
@require_POST
def vote_close(request: HttpRequest, pk: int) -> HttpResponse:
    vote = vote_selectors.vote_get(actor=request.user, vote_id=pk)
    try:
        votes.vote_close(actor=request.user, vote=vote)
    except Conflict as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("表决已结束，结果已封存并在公示栏公布。"))
    return redirect("deliberation:vote_detail", pk=vote.pk)


def _paper_voters(vote: Vote) -> tuple[list[tuple[str, str]], str]:
    """Choices for the paper-ballot form: units (owners' votes) or masked residents (residents' votes)."""
    if vote.electorate == Electorate.OWNERS:
        units = votes.snapshot_units(vote)
        names = dict(Place.objects.filter(pk__in=[u["unit"] for u in units]).values_list("pk", "name"))
        choices = [(str(u["unit"]), f"{names.get(u['unit'], u.get('name', ''))}（{u['area']}㎡）") for u in units]
        return choices, _("房屋")
    people = Person.objects.filter(pk__in=votes.snapshot_persons(vote)).select_related("place").order_by("place__path")
    return [(str(p.pk), f"{p.masked_name}（{p.place.name}）") for p in people], _("居民")


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def vote_paper(request: HttpRequest, pk: int) -> HttpResponse:
    vote = vote_selectors.vote_get(actor=request.user, vote_id=pk)
    if not _can_manage(request, vote):
        raise PermissionDenied()
    voters, voter_label = _paper_voters(vote)
    options = [(str(o.pk), o.label) for o in vote.options.all()]
    form = PaperBallotForm(request.POST or None, voters=voters, options=options, voter_label=voter_label)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        voter_id = int(data["voter"])
        who: dict[str, Any] = {}
        if vote.electorate == Electorate.OWNERS:
            who["unit"] = Place.objects.get(pk=voter_id)
        else:
            who["person"] = Person.objects.get(pk=voter_id)
        try:
            votes.ballot_enter_paper(actor=request.user, vote=vote, option=int(data["option"]),
                                     reason=data["reason"], **who)
        except ValidationFailed as exc:
            apply_service_errors(form, exc, aliases={"option_id": "option", "unit": "voter", "person": "voter"})
        except Conflict as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("纸质票已录入，并记入审计日志。"))
            return redirect("deliberation:vote_paper", pk=vote.pk)
    return render(request, "deliberation/votes_paper.html", {
        "vote": vote, "form": form, "turnout": vote_selectors.vote_turnout(vote=vote),
    })


urlpatterns = [
    path("votes/", vote_list, name="vote_list"),
    path("votes/new/", vote_create, name="vote_create"),
    path("votes/<int:pk>/", vote_detail, name="vote_detail"),
    path("votes/<int:pk>/cast/", vote_cast, name="vote_cast"),
    path("votes/<int:pk>/open/", vote_open, name="vote_open"),
    path("votes/<int:pk>/close/", vote_close, name="vote_close"),
    path("votes/<int:pk>/paper/", vote_paper, name="vote_paper"),
]
