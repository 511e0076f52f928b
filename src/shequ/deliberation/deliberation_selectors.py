"""Reads of proposals, topics, meetings and decisions, always scoped to the actor.

Staff read within their scope (``REGISTRY_VIEW``); residents read what concerns their compound and
community (``resident_paths``). Missing and out of scope both raise ``NotFound``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from shequ.accounts.models import User
from shequ.accounts.roles import Capability, Role
from shequ.core import pii
from shequ.core.attachments import Attachment
from shequ.core.errors import NotFound
from shequ.core.scope import restrict, subtree_q
from shequ.deliberation.choices import DecisionStatus, MeetingStatus, ProposalStatus, TopicStatus
from shequ.deliberation.models import Attendance, Comment, Decision, Meeting, Proposal, ProposalSupport, Topic
from shequ.deliberation.proposals import resident_node_prefixes, rules_for, threshold_for
from shequ.registry.choices import PlaceKind
from shequ.registry.models import Place

VIEW = Capability.REGISTRY_VIEW
MANAGE = Capability.DELIBERATION_MANAGE


def participant_name(user: Any) -> str:
    """How a participant is shown: a resident by their masked registry name (张**), staff by display name."""
    if user is None:
        return ""
    if getattr(user, "person_id", None):
        return pii.mask_name(user.person.name)
    return user.display_name or pii.mask_name(user.username)


def _staff_q(actor: Any) -> Q | None:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return None
    paths = actor.scope_paths(VIEW)
    if not paths:
        return None
    q = Q()
    for path in paths:
        q |= subtree_q(path)
    return q


def _visible(qs: QuerySet, actor: Any, *, community_level: bool = False) -> QuerySet:
    """Staff scope ∪ what concerns the actor as a resident (their compound, their community)."""
    condition = _staff_q(actor)
    prefixes = resident_node_prefixes(actor)
    if community_level:
        prefixes = {p for p in prefixes if len(p) == 12}
    if prefixes:
        resident = Q(scope_path__in=sorted(prefixes))
        condition = resident if condition is None else condition | resident
    if condition is None:
        return qs.none()
    return qs.filter(condition)


# --- Places the actor acts on ---------------------------------------------------------------------


def manageable_communities(*, actor: Any) -> QuerySet[Place]:
    return restrict(Place.objects.filter(kind=PlaceKind.COMMUNITY), actor, capability=MANAGE).order_by("path")


def managed_community_get(*, actor: Any, community_id: Any) -> Place:
    try:
        return manageable_communities(actor=actor).get(pk=community_id)
    except (Place.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound() from exc


def proposal_places(*, actor: Any) -> QuerySet[Place]:
    """Where the actor may propose: their compound(s) and community, plus what they manage."""
    prefixes = resident_node_prefixes(actor)
    kinds = [PlaceKind.COMMUNITY, PlaceKind.COMPOUND]
    q = Q(path__in=sorted(prefixes)) if prefixes else Q(pk__in=[])
    managed = restrict(Place.objects.filter(kind__in=kinds), actor, capability=MANAGE)
    return Place.objects.filter(kind__in=kinds).filter(q | Q(pk__in=managed.values("pk"))).order_by("path")


def community_rules(*, community: Place) -> dict[str, Any]:
    rules = rules_for(community)
    return {"rules": rules, "threshold_now": threshold_for(community)}


# --- Proposals ------------------------------------------------------------------------------------


def proposal_list(*, actor: Any, status: str | None = None, q: str = "") -> QuerySet[Proposal]:
    qs = _visible(Proposal.objects.select_related("place", "community", "proposer", "proposer__person"), actor)
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(body__icontains=q))
    open_first = Case(When(status=ProposalStatus.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField())
    return qs.order_by(open_first, "-created_at")


def proposal_get(*, actor: Any, proposal_id: Any) -> Proposal:
    try:
        return proposal_list(actor=actor).get(pk=proposal_id)
    except (Proposal.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound() from exc


def proposal_comments(*, proposal: Proposal) -> list[Comment]:
    comments = list(proposal.comments.select_related("author", "author__person").order_by("created_at"))
    for comment in comments:
        comment.author_name = participant_name(comment.author)  # type: ignore[attr-defined]
    return comments


def comment_get(*, actor: Any, comment_id: Any) -> Comment:
    try:
        comment = Comment.objects.select_related("proposal").get(pk=comment_id)
    except (Comment.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound() from exc
    proposal_get(actor=actor, proposal_id=comment.proposal_id)
    return comment


def has_supported(*, actor: Any, proposal: Proposal) -> bool:
    person_id = getattr(actor, "person_id", None)
    return bool(person_id) and ProposalSupport.objects.filter(proposal=proposal, person_id=person_id).exists()


def attachments_of(obj: Any) -> QuerySet[Attachment]:
    return Attachment.objects.for_object(obj).order_by("id")


def attachment_get(*, actor: Any, attachment_id: Any) -> Attachment:
    """A photo or document of a proposal or meeting the actor may see; anything else is ``NotFound``."""
    try:
        attachment = Attachment.objects.select_related("content_type").get(pk=attachment_id)
    except (Attachment.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound() from exc
    label = f"{attachment.content_type.app_label}.{attachment.content_type.model}"
    if label == "deliberation.proposal":
        proposal_get(actor=actor, proposal_id=attachment.object_id)
    elif label == "deliberation.meeting":
        meeting = meeting_get(actor=actor, meeting_id=attachment.object_id)
        if not meeting.minutes_published and not restrict(Meeting.objects.filter(pk=meeting.pk), actor,
                                                          capability=MANAGE).exists():
            raise NotFound()
    else:
        raise NotFound()
    return attachment


# --- Topics ---------------------------------------------------------------------------------------


def topic_list(*, actor: Any, community: Place | None = None, status: str | None = None) -> QuerySet[Topic]:
    qs = _visible(Topic.objects.select_related("community", "proposal"), actor, community_level=True)
    if community is not None:
        qs = qs.filter(community=community)
    if status:
        qs = qs.filter(status=status)
    order = Case(When(status=TopicStatus.OPEN, then=Value(0)), When(status=TopicStatus.SCHEDULED, then=Value(1)),
                 default=Value(2), output_field=IntegerField())
    return qs.order_by(order, "-created_at")


def topic_get(*, actor: Any, topic_id: Any) -> Topic:
    try:
        return topic_list(actor=actor).get(pk=topic_id)
    except (Topic.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound() from exc


# --- Meetings -------------------------------------------------------------------------------------


def meeting_list(*, actor: Any, upcoming: bool | None = None) -> QuerySet[Meeting]:
    qs = _visible(Meeting.objects.select_related("community"), actor, community_level=True)
    if actor is not None and getattr(actor, "person_id", None):
        qs = qs | Meeting.objects.select_related("community").filter(invited_people=actor.person_id)
        qs = qs.distinct()
    if upcoming is True:
        qs = qs.filter(starts_at__gte=timezone.now()).exclude(status=MeetingStatus.CANCELLED)
    return qs.order_by("-starts_at")


def meeting_get(*, actor: Any, meeting_id: Any) -> Meeting:
    try:
        return meeting_list(actor=actor).get(pk=meeting_id)
    except (Meeting.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound() from exc


def meeting_attendance(*, meeting: Meeting) -> QuerySet[Attendance]:
    return meeting.attendance.select_related("person", "organisation", "recorded_by").order_by("created_at")


def has_signed_in(*, actor: Any, meeting: Meeting) -> bool:
    person_id = getattr(actor, "person_id", None)
    return bool(person_id) and meeting.attendance.filter(person_id=person_id).exists()


def responsible_candidates(*, community: Place) -> QuerySet[User]:
    """Staff holding a role at the community or above it (the usual responsible people)."""
    ancestors = [community.path[:n] for n in range(1, len(community.path) + 1)]
    staff_roles = [r for r in Role.values if r != Role.RESIDENT]
    where = Q(memberships__place__path__in=ancestors) | subtree_q(community.path, field="memberships__place__path")
    return (User.objects.filter(where, is_active=True, memberships__active=True, memberships__role__in=staff_roles)
            .distinct().order_by("username"))


# --- Decisions ------------------------------------------------------------------------------------


def decision_list(*, actor: Any, status: str | None = None, overdue: bool = False) -> QuerySet[Decision]:
    """Decisions in scope and those the actor is responsible for; open and overdue first."""
    base = Decision.objects.select_related("meeting", "meeting__community", "responsible", "topic")
    condition = _staff_q(actor)
    if actor is not None and getattr(actor, "is_authenticated", False):
        mine = Q(responsible=actor)
        condition = mine if condition is None else condition | mine
    if condition is None:
        return base.none()
    qs = base.filter(condition)
    today = timezone.localdate()
    if status:
        qs = qs.filter(status=status)
    if overdue:
        qs = qs.filter(status=DecisionStatus.OPEN, due_on__lt=today)
    rank = Case(
        When(status=DecisionStatus.OPEN, due_on__lt=today, then=Value(0)),
        When(status=DecisionStatus.OPEN, then=Value(1)),
        default=Value(2), output_field=IntegerField(),
    )
    return qs.annotate(rank=rank).order_by("rank", "due_on", "id")


def decision_overdue(*, actor: Any) -> QuerySet[Decision]:
    return decision_list(actor=actor, overdue=True)


def decision_get(*, actor: Any, decision_id: Any) -> Decision:
    try:
        return decision_list(actor=actor).get(pk=decision_id)
    except (Decision.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound() from exc


# --- Public page (used by the public module; no actor) --------------------------------------------


def public_meetings(*, community: Place) -> QuerySet[Meeting]:
    """Meetings of ``community`` whose minutes were published."""
    return Meeting.objects.filter(community=community, minutes_published=True).order_by("-starts_at")


def public_decisions(*, community: Place) -> QuerySet[Decision]:
    """Decisions of meetings of ``community`` whose minutes were published, newest meeting first.

    Only non-personal fields are meant for the public page: text, due date, status, outcome, the
    meeting's title/kind/date; the responsible user's display name is staff's, not a resident's.
    """
    return (Decision.objects.filter(meeting__community=community, meeting__minutes_published=True)
            .select_related("meeting", "topic").order_by("-meeting__starts_at", "due_on", "id"))
