"""Meeting pages (会议): list, scheduling, detail with agenda, attendance, minutes and decisions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from shequ.accounts.roles import Capability
from shequ.core.errors import Conflict, PermissionDenied, ValidationFailed
from shequ.core.forms import apply_service_errors, paginate
from shequ.core.scope import restrict, subtree_q
from shequ.deliberation import deliberation_selectors as sel
from shequ.deliberation import meetings as services
from shequ.deliberation.choices import AttendanceSource, DecisionStatus, MeetingStatus, TopicStatus
from shequ.deliberation.forms_meetings import (
    CompleteForm,
    DecisionCaseForm,
    DecisionForm,
    MeetingForm,
    MinutesForm,
    PaperAttendanceForm,
)
from shequ.deliberation.models import Decision, Meeting
from shequ.registry import selectors as registry
from shequ.registry.choices import PlaceKind
from shequ.registry.models import Person
from shequ.web.http import domain_errors

MANAGE = Capability.DELIBERATION_MANAGE


def _people_in(actor: Any, meeting_or_communities: Any) -> QuerySet[Person]:
    """People a manager may invite or sign in: registry people of the community, names masked on display."""
    qs = restrict(Person.objects.select_related("place"), actor, capability=MANAGE)
    if isinstance(meeting_or_communities, Meeting):
        qs = qs.filter(subtree_q(meeting_or_communities.community.path))
    return qs.order_by("scope_path", "id")


@login_required
@domain_errors
def meeting_list(request: HttpRequest) -> HttpResponse:
    page, query = paginate(request, sel.meeting_list(actor=request.user))
    return render(request, "deliberation/meetings_list.html", {
        "page_obj": page, "query": query, "now": timezone.now(),
        "can_schedule": sel.manageable_communities(actor=request.user).exists(),
    })


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def meeting_create(request: HttpRequest) -> HttpResponse:
    communities = sel.manageable_communities(actor=request.user)
    if not communities.exists():
        raise PermissionDenied()
    topics = sel.topic_list(actor=request.user).filter(community__in=communities).exclude(status=TopicStatus.CLOSED)
    organisations = registry.organisation_list(actor=request.user)
    initial = {"topics": request.GET.getlist("topic")}
    form = MeetingForm(request.POST or None, communities=communities, topics=topics, organisations=organisations,
                       people=_people_in(request.user, communities), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            meeting = services.meeting_schedule(
                actor=request.user, community=data["community"], kind=data["kind"], title=data["title"],
                starts_at=data["starts_at"], location=data["location"], topics=data["topics"],
                people=data["people"], organisations=data["organisations"], roles=data["roles"])
        except ValidationFailed as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("会议已安排，已通知被邀请人。"))
            return redirect("deliberation:meeting_detail", pk=meeting.pk)
    return render(request, "deliberation/meetings_form.html", {"form": form})


def _detail(request: HttpRequest, meeting: Meeting, *, paper_form: PaperAttendanceForm | None = None,
            decision_form: DecisionForm | None = None, status: int = 200) -> HttpResponse:
    user = request.user
    manager = services.can_manage(user, meeting.scope_path)
    agenda = meeting.topics.all()
    decisions = meeting.decisions.select_related("responsible", "topic", "case").order_by("status", "due_on", "id")
    context: dict[str, Any] = {
        "meeting": meeting, "agenda": agenda, "is_manager": manager,
        "decisions": decisions, "today": timezone.localdate(),
        "attachments": sel.attachments_of(meeting),
        "signed_in": sel.has_signed_in(actor=user, meeting=meeting),
        "may_sign_in": meeting.status != MeetingStatus.CANCELLED and services.may_sign_in(user, meeting),
    }
    if manager:
        context.update({
            "attendance": sel.meeting_attendance(meeting=meeting),
            "invited_people": meeting.invited_people.select_related("place"),
            "invited_organisations": meeting.invited_organisations.all(),
            "invited_roles": meeting.invited_roles,
            "paper_form": paper_form or PaperAttendanceForm(people=_people_in(user, meeting)),
            "decision_form": decision_form or DecisionForm(
                responsibles=sel.responsible_candidates(community=meeting.community), topics=agenda),
            "complete_form": CompleteForm(),
        })
    else:
        context["attendance_count"] = meeting.attendance.count()
    context["can_complete"] = {d.pk for d in decisions if services.may_complete(user, d)}
    context["can_open_case"] = {d.pk for d in decisions if services.may_open_case(user, d)}
    return render(request, "deliberation/meetings_detail.html", context, status=status)


@login_required
@domain_errors
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, sel.meeting_get(actor=request.user, meeting_id=pk))


@login_required
@domain_errors
@require_POST
def meeting_sign_in(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = sel.meeting_get(actor=request.user, meeting_id=pk)
    try:
        services.attendance_record(actor=request.user, meeting=meeting, source=AttendanceSource.ONLINE)
    except ValidationFailed as exc:
        messages.error(request, exc.first_message())
    else:
        messages.success(request, _("签到成功。"))
    return redirect("deliberation:meeting_detail", pk=pk)


@login_required
@domain_errors
@require_POST
def attendance_add(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = sel.meeting_get(actor=request.user, meeting_id=pk)
    form = PaperAttendanceForm(request.POST, people=_people_in(request.user, meeting))
    if form.is_valid():
        try:
            services.attendance_record(actor=request.user, meeting=meeting, person=form.cleaned_data["person"],
                                       name=form.cleaned_data["name"], source=AttendanceSource.PAPER)
        except ValidationFailed as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("已录入纸质签到。"))
            return redirect(reverse("deliberation:meeting_detail", args=[pk]) + "#attendance")
    return _detail(request, meeting, paper_form=form, status=400)


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def meeting_minutes(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = sel.meeting_get(actor=request.user, meeting_id=pk)
    if not services.can_manage(request.user, meeting.scope_path):
        raise PermissionDenied()
    form = MinutesForm(request.POST or None, request.FILES or None, initial={
        "minutes": meeting.minutes, "publish": meeting.minutes_published, "version": meeting.version})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.meeting_minutes_save(actor=request.user, meeting=meeting, minutes=data["minutes"],
                                          publish=data["publish"], attachments=data["attachments"],
                                          version=data["version"])
        except ValidationFailed as exc:
            apply_service_errors(form, exc)
        except Conflict as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("会议纪要已保存。"))
            return redirect("deliberation:meeting_detail", pk=pk)
    return render(request, "deliberation/meetings_minutes.html", {
        "form": form, "meeting": meeting, "attachments": sel.attachments_of(meeting)})


@login_required
@domain_errors
@require_POST
def decision_add(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = sel.meeting_get(actor=request.user, meeting_id=pk)
    form = DecisionForm(request.POST, responsibles=sel.responsible_candidates(community=meeting.community),
                        topics=meeting.topics.all())
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.decision_add(actor=request.user, meeting=meeting, text=data["text"],
                                  responsible=data["responsible"], due_on=data["due_on"], topic=data["topic"])
        except ValidationFailed as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("决议已记录，已通知责任人。"))
            return redirect(reverse("deliberation:meeting_detail", args=[pk]) + "#decisions")
    return _detail(request, meeting, decision_form=form, status=400)


@login_required
@domain_errors
def decision_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    overdue = status == "overdue"
    decisions = sel.decision_list(actor=request.user, overdue=overdue,
                                  status=status if status in DecisionStatus.values else None).select_related("case")
    page, query = paginate(request, decisions)
    return render(request, "deliberation/meetings_decisions.html", {
        "page_obj": page, "query": query, "status": status, "today": timezone.localdate(),
        "overdue_count": sel.decision_overdue(actor=request.user).count(),
        "statuses": DecisionStatus.choices, "complete_form": CompleteForm(),
        "can_complete": {d.pk for d in page if services.may_complete(request.user, d)},
        "can_open_case": {d.pk for d in page if services.may_open_case(request.user, d)},
    })


@login_required
@domain_errors
@require_POST
def decision_complete(request: HttpRequest, pk: int) -> HttpResponse:
    decision = sel.decision_get(actor=request.user, decision_id=pk)
    form = CompleteForm(request.POST)
    back = request.POST.get("next") or reverse("deliberation:meeting_detail", args=[decision.meeting_id])
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("deliberation:decision_list")
    if not form.is_valid():
        messages.error(request, _("请填写落实情况。"))
        return redirect(back)
    try:
        services.decision_complete(actor=request.user, decision=decision, outcome=form.cleaned_data["outcome"],
                                   version=form.cleaned_data["version"])
    except ValidationFailed as exc:
        messages.error(request, exc.first_message())
    except Conflict as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("决议已标记为完成。"))
    return redirect(back)


def _back(request: HttpRequest, decision: Decision) -> str:
    back = request.POST.get("next") or request.GET.get("next") or ""
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return back
    return reverse("deliberation:meeting_detail", args=[decision.meeting_id]) + f"#decision-{decision.pk}"


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def decision_case(request: HttpRequest, pk: int) -> HttpResponse:
    """转为工单: open a case (一网统管) that carries the decision out."""
    decision = sel.decision_get(actor=request.user, decision_id=pk)
    if not services.can_manage(request.user, decision.scope_path):
        raise PermissionDenied()
    community = decision.meeting.community
    places = (registry.place_list(actor=request.user, within=community)
              .filter(kind__in=[PlaceKind.COMMUNITY, PlaceKind.COMPOUND, PlaceKind.BUILDING]).select_related("parent"))
    form = DecisionCaseForm(request.POST or None, places=places,
                            initial={"place": community.pk, "version": decision.version})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case = services.decision_open_case(
                actor=request.user, decision=decision, category=data["category"], title=data["title"],
                description=data["description"], place=data["place"], version=data["version"])
        except ValidationFailed as exc:
            apply_service_errors(form, exc)
        except Conflict as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("已转为工单 %(number)s") % {"number": case.number})
            return redirect(_back(request, decision))
    return render(request, "deliberation/meetings_decision_case.html", {
        "form": form, "decision": decision, "meeting": decision.meeting, "next": _back(request, decision)},
        status=400 if form.errors else 200)


urlpatterns = [
    path("meetings/", meeting_list, name="meeting_list"),
    path("meetings/new/", meeting_create, name="meeting_create"),
    path("meetings/<int:pk>/", meeting_detail, name="meeting_detail"),
    path("meetings/<int:pk>/sign-in/", meeting_sign_in, name="meeting_sign_in"),
    path("meetings/<int:pk>/attendance/", attendance_add, name="attendance_add"),
    path("meetings/<int:pk>/minutes/", meeting_minutes, name="meeting_minutes"),
    path("meetings/<int:pk>/decisions/", decision_add, name="decision_add"),
    path("decisions/", decision_list, name="decision_list"),
    path("decisions/<int:pk>/complete/", decision_complete, name="decision_complete"),
    path("decisions/<int:pk>/case/", decision_case, name="decision_case"),
]
