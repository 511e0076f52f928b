"""Meetings (会议): scheduling with an agenda and invitees, attendance, minutes and decisions (决议).

A community worker schedules a meeting of one of the kinds the plans name, with topics of that
community on the agenda and people, organisations and roles invited; attendance is signed in online
by the person or entered from the paper sheet by staff (audited); minutes are saved with attachments
and may be published on the community's public page; each decision has a responsible user and a due
date and is followed to done.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shequ.accounts.models import Membership, User
from shequ.accounts.roles import Role
from shequ.cases import services as case_services
from shequ.cases.choices import OPEN_STATES, CaseSource
from shequ.cases.models import Case, CaseCategory
from shequ.core import pii
from shequ.core.attachments import attachment_add, check_upload
from shequ.core.audit import audit_record
from shequ.core.errors import NotFound, PermissionDenied, ValidationFailed
from shequ.core.models import AuditAction
from shequ.core.notifications import notify
from shequ.core.scope import subtree_q
from shequ.core.services import bump_version, check_version, full_clean
from shequ.deliberation.choices import (
    AttendanceSource,
    DecisionStatus,
    MeetingKind,
    MeetingStatus,
    TopicStatus,
)
from shequ.deliberation.models import Attendance, Decision, Meeting, Topic
from shequ.deliberation.proposals import _require_manage, can_manage
from shequ.registry.choices import PlaceKind
from shequ.registry.models import Organisation, Person, Place

KIND_UNKNOWN = _("请选择会议类型。")
TITLE_REQUIRED = _("请填写会议名称。")
NOT_A_COMMUNITY = _("请选择一个社区。")
TOPIC_NOT_HERE = _("议题“{title}”不属于本社区，或已结束。")
PERSON_NOT_HERE = _("被邀请的居民须在本社区。")
ORGANISATION_NOT_HERE = _("被邀请的组织须在本社区或其所属街道、区。")
ROLE_UNKNOWN = _("未知的角色：{role}")
MEETING_CANCELLED = _("会议已取消。")
ALREADY_SIGNED_IN = _("该居民已签到。")
SIGN_IN_YOURSELF = _("线上签到只能由本人进行。")
NOT_INVITED = _("您不在本次会议的参会范围内。")
ATTENDEE_REQUIRED = _("请填写签到人：选择居民或组织，或填写姓名。")
SOURCE_UNKNOWN = _("未知的签到方式。")
DUE_IN_PAST = _("完成期限不能早于今天。")
TEXT_REQUIRED = _("请填写决议内容。")
RESPONSIBLE_NOT_HERE = _("责任人须为本社区或其上级的工作人员或本社区居民。")
TOPIC_NOT_ON_AGENDA = _("议题须在本次会议的议程上。")
OUTCOME_REQUIRED = _("请填写落实情况。")
ALREADY_DONE = _("该决议已完成。")
NOT_RESPONSIBLE = _("只有责任人或社区工作人员可以完成决议。")
INVITED_TITLE = _("会议邀请：{title}")
INVITED_BODY = _("{kind}，{when}，地点：{location}")
CASE_DECISION_DONE = _("该决议已完成，不能再转为工单。")
CASE_ALREADY_OPEN = _("该决议已转为工单{number}，该工单尚未办结。")
CASE_PLACE_NOT_HERE = _("工单位置须在本次会议的社区内。")
CASE_DESCRIPTION = _("会议《{meeting}》决议：{text}")
CASE_OPENED_TITLE = _("您负责的决议已转为工单{number}")
CASE_OPENED_BODY = _("工单每一步进展都会通知您；工单结案后，请填写落实情况完成决议。")
DECISION_TITLE = _("您被指定为决议责任人：{text}")
DECISION_BODY = _("完成期限：{due}")


def _community(place: Place) -> None:
    if place.kind != PlaceKind.COMMUNITY:
        raise ValidationFailed({"community": NOT_A_COMMUNITY})


def _in_community(path: str, community: Place) -> bool:
    return path.startswith(community.path)


def meeting_invited_users(meeting: Meeting) -> list[User]:
    """Users behind the invitations: accounts of invited people and holders of invited roles here."""
    people = list(meeting.invited_people.values_list("pk", flat=True))
    by_person = list(User.objects.filter(person_id__in=people, is_active=True)) if people else []
    by_role: list[User] = []
    if meeting.invited_roles:
        memberships = Membership.objects.filter(active=True, role__in=meeting.invited_roles).filter(
            subtree_q(meeting.community.path, field="place__path")
        )
        by_role = list(User.objects.filter(pk__in=memberships.values("user_id"), is_active=True))
    return by_person + by_role


@transaction.atomic
def meeting_schedule(
    *,
    actor: Any,
    community: Place,
    kind: str,
    title: str,
    starts_at: dt.datetime,
    location: str = "",
    topics: Iterable[Topic] = (),
    people: Iterable[Person] = (),
    organisations: Iterable[Organisation] = (),
    roles: Iterable[str] = (),
) -> Meeting:
    _community(community)
    _require_manage(actor, community.path)
    topics, people, organisations, roles = list(topics), list(people), list(organisations), list(roles)
    errors: dict[str, list[str]] = {}
    if kind not in MeetingKind.values:
        errors["kind"] = [str(KIND_UNKNOWN)]
    if not (title or "").strip():
        errors["title"] = [str(TITLE_REQUIRED)]
    for topic in topics:
        if topic.community_id != community.pk or topic.status == TopicStatus.CLOSED:
            errors.setdefault("topics", []).append(str(TOPIC_NOT_HERE).format(title=topic.title))
    if any(not _in_community(p.scope_path, community) for p in people):
        errors["people"] = [str(PERSON_NOT_HERE)]
    if any(not (_in_community(o.scope_path, community) or community.path.startswith(o.scope_path))
           for o in organisations):
        errors["organisations"] = [str(ORGANISATION_NOT_HERE)]
    for role in roles:
        if role not in Role.values:
            errors.setdefault("roles", []).append(str(ROLE_UNKNOWN).format(role=role))
    if errors:
        raise ValidationFailed(errors)
    meeting = Meeting(community=community, kind=kind, title=title.strip(), starts_at=starts_at,
                      location=(location or "").strip(), invited_roles=sorted(set(roles)), created_by=actor)
    meeting.set_scope(community.path)
    full_clean(meeting)
    meeting.save()
    meeting.topics.set(topics)
    meeting.invited_people.set(people)
    meeting.invited_organisations.set(organisations)
    Topic.objects.filter(pk__in=[t.pk for t in topics], status=TopicStatus.OPEN).update(status=TopicStatus.SCHEDULED)
    audit_record(actor=actor, action=AuditAction.CREATE, obj=meeting, changes={
        "kind": kind, "topics": [t.pk for t in topics], "people": len(people),
        "organisations": [o.pk for o in organisations], "roles": meeting.invited_roles})
    when = timezone.localtime(starts_at).strftime("%Y-%m-%d %H:%M")
    notify(users=meeting_invited_users(meeting), title=str(INVITED_TITLE).format(title=meeting.title),
           body=str(INVITED_BODY).format(kind=meeting.get_kind_display(), when=when, location=meeting.location or "—"),
           link=reverse("deliberation:meeting_detail", args=[meeting.pk]))
    return meeting


def may_sign_in(actor: Any, meeting: Meeting) -> bool:
    """A person signs in online when invited, or as a verified resident of the community."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.person_id:
        return False
    if meeting.invited_people.filter(pk=actor.person_id).exists():
        return True
    return actor.is_verified_resident() and meeting.community.path in actor.resident_paths()


@transaction.atomic
def attendance_record(
    *,
    actor: Any,
    meeting: Meeting,
    person: Person | None = None,
    organisation: Organisation | None = None,
    name: str = "",
    source: str,
) -> Attendance:
    """Online sign-in by the person themselves, or a paper sign-in entered by staff (audited)."""
    if meeting.status == MeetingStatus.CANCELLED:
        raise ValidationFailed({"__all__": MEETING_CANCELLED})
    if source == AttendanceSource.ONLINE:
        person = person or getattr(actor, "person", None)
        if person is None or getattr(actor, "person_id", None) != person.pk:
            raise PermissionDenied(SIGN_IN_YOURSELF)
        if not may_sign_in(actor, meeting):
            raise NotFound(NOT_INVITED)
        organisation = None
    elif source == AttendanceSource.PAPER:
        _require_manage(actor, meeting.scope_path)
        if person is not None and not _in_community(person.scope_path, meeting.community):
            raise ValidationFailed({"person": PERSON_NOT_HERE})
        if person is None and organisation is None and not (name or "").strip():
            raise ValidationFailed({"__all__": ATTENDEE_REQUIRED})
    else:
        raise ValidationFailed({"source": SOURCE_UNKNOWN})
    if person is not None:
        shown = pii.mask_name(person.name)
    elif organisation is not None:
        shown = organisation.name
    else:
        shown = name.strip()
    row = Attendance(meeting=meeting, person=person, organisation=organisation, name=shown[:100], source=source,
                     recorded_by=actor)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError as exc:
        raise ValidationFailed({"__all__": ALREADY_SIGNED_IN}, code="already_signed_in") from exc
    audit_record(actor=actor, action=AuditAction.CREATE, obj=row, object_repr=row.name,
                 scope_path=meeting.scope_path, changes={"source": source, "meeting": meeting.pk})
    return row


@transaction.atomic
def meeting_minutes_save(
    *,
    actor: Any,
    meeting: Meeting,
    minutes: str,
    publish: bool = False,
    attachments: Iterable[UploadedFile] = (),
    version: int | None = None,
) -> Meeting:
    """Save the minutes (the meeting is then held); ``publish`` shows them on the public page."""
    _require_manage(actor, meeting.scope_path)
    attachments = list(attachments)
    errors = []
    for upload in attachments:
        try:
            check_upload(upload)
        except ValidationFailed as exc:
            errors.extend(m for msgs in exc.errors.values() for m in msgs)
    if errors:
        raise ValidationFailed({"attachments": errors})
    locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
    check_version(locked, version)
    if locked.status == MeetingStatus.CANCELLED:
        raise ValidationFailed({"__all__": MEETING_CANCELLED})
    before = {"minutes": locked.minutes, "minutes_published": locked.minutes_published, "status": locked.status}
    locked.minutes = (minutes or "").strip()
    locked.minutes_published = bool(publish)
    locked.status = MeetingStatus.HELD
    bump_version(locked)
    locked.save(update_fields=["minutes", "minutes_published", "status", "version", "updated_at"])
    for upload in attachments:
        attachment_add(actor=actor, obj=locked, upload=upload)
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=locked, changes={
        "minutes": "changed" if before["minutes"] != locked.minutes else "same",
        "minutes_published": {"old": before["minutes_published"], "new": locked.minutes_published},
        "status": {"old": before["status"], "new": locked.status}, "attachments": len(attachments)})
    return locked


def responsible_in_scope(user: User, community: Place) -> bool:
    """Staff holding a role at the community, below it or above it, or a resident of it."""
    if not user.is_active:
        return False
    return any(community.path.startswith(p) or p.startswith(community.path)
               for p in (m.place.path for m in user.active_memberships()))


@transaction.atomic
def decision_add(
    *,
    actor: Any,
    meeting: Meeting,
    text: str,
    responsible: User,
    due_on: dt.date,
    topic: Topic | None = None,
) -> Decision:
    _require_manage(actor, meeting.scope_path)
    errors: dict[str, list[str]] = {}
    if not (text or "").strip():
        errors["text"] = [str(TEXT_REQUIRED)]
    if responsible is None or not responsible_in_scope(responsible, meeting.community):
        errors["responsible"] = [str(RESPONSIBLE_NOT_HERE)]
    if due_on is None or due_on < timezone.localdate():
        errors["due_on"] = [str(DUE_IN_PAST)]
    if topic is not None and not meeting.topics.filter(pk=topic.pk).exists():
        errors["topic"] = [str(TOPIC_NOT_ON_AGENDA)]
    if errors:
        raise ValidationFailed(errors)
    decision = Decision(meeting=meeting, topic=topic, text=text.strip(), responsible=responsible, due_on=due_on)
    decision.set_scope(meeting.scope_path)
    full_clean(decision)
    decision.save()
    if topic is not None:
        Topic.objects.filter(pk=topic.pk).update(status=TopicStatus.DECIDED)
    audit_record(actor=actor, action=AuditAction.CREATE, obj=decision, changes={
        "meeting": meeting.pk, "responsible": responsible.pk, "due_on": due_on.isoformat(),
        "topic": topic.pk if topic else None})
    notify(users=[responsible], title=str(DECISION_TITLE).format(text=decision.text[:40]),
           body=str(DECISION_BODY).format(due=due_on.isoformat()),
           link=reverse("deliberation:meeting_detail", args=[meeting.pk]))
    return decision


def may_complete(actor: Any, decision: Decision) -> bool:
    return getattr(actor, "pk", None) == decision.responsible_id or can_manage(actor, decision.scope_path)


def may_open_case(actor: Any, decision: Decision) -> bool:
    """Whether ``decision_open_case`` would take it: an open decision with no case still being handled,
    for a manager of the meeting (the 转为工单 button)."""
    case_in_hand = decision.case_id is not None and decision.case.state in OPEN_STATES
    return decision.status == DecisionStatus.OPEN and not case_in_hand and can_manage(actor, decision.scope_path)


@transaction.atomic
def decision_complete(*, actor: Any, decision: Decision, outcome: str, version: int | None = None) -> Decision:
    """The responsible user or a manager records the outcome; the decision is done."""
    if not may_complete(actor, decision):
        raise PermissionDenied(NOT_RESPONSIBLE)
    locked = Decision.objects.select_for_update().get(pk=decision.pk)
    check_version(locked, version)
    if locked.status == DecisionStatus.DONE:
        raise ValidationFailed({"__all__": ALREADY_DONE})
    outcome = (outcome or "").strip()
    if not outcome:
        raise ValidationFailed({"outcome": OUTCOME_REQUIRED})
    locked.status, locked.outcome, locked.done_at = DecisionStatus.DONE, outcome, timezone.now()
    bump_version(locked)
    locked.save(update_fields=["status", "outcome", "done_at", "version", "updated_at"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=locked,
                 changes={"status": {"old": DecisionStatus.OPEN, "new": DecisionStatus.DONE}})
    return locked


@transaction.atomic
def decision_open_case(
    *,
    actor: Any,
    decision: Decision,
    category: CaseCategory | None,
    title: str = "",
    description: str = "",
    place: Place | None = None,
    version: int | None = None,
) -> Case:
    """Carry a decision out as a case (工单) of the case loop; its responsible person follows the case.

    Closing the case does not complete the decision: the responsible person records the outcome
    (``decision_complete``). A decision whose case ended without being handled (rejected, merged)
    or was closed may be opened as a case again.
    """
    _require_manage(actor, decision.scope_path)
    locked = Decision.objects.select_for_update().get(pk=decision.pk)
    check_version(locked, version)
    if locked.status == DecisionStatus.DONE:
        raise ValidationFailed({"__all__": CASE_DECISION_DONE}, code="decision_done")
    previous = locked.case
    if previous is not None and previous.state in OPEN_STATES:
        raise ValidationFailed({"__all__": str(CASE_ALREADY_OPEN).format(number=previous.number)},
                               code="case_already_open")
    meeting = locked.meeting
    community = meeting.community
    if place is not None and not _in_community(place.path, community):
        raise ValidationFailed({"place": CASE_PLACE_NOT_HERE})
    text = locked.text.strip()
    case = case_services.case_report(
        actor=actor, category=category, title=(title or "").strip() or text.splitlines()[0],
        description=(description or "").strip() or str(CASE_DESCRIPTION).format(meeting=meeting.title, text=text),
        source=CaseSource.DECISION, place=place or community)
    locked.case = case
    bump_version(locked)
    locked.save(update_fields=["case", "version", "updated_at"])
    case_services.case_follow(case=case, users=[locked.responsible])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=locked, changes={
        "case": {"old": previous.pk if previous else None, "new": case.pk}, "case_number": case.number})
    if locked.responsible_id != getattr(actor, "pk", None):
        notify(users=[locked.responsible], title=str(CASE_OPENED_TITLE).format(number=case.number),
               body=str(CASE_OPENED_BODY), link=case_services.case_link(case))
    return case


def overdue_q(today: dt.date | None = None) -> Q:
    return Q(status=DecisionStatus.OPEN, due_on__lt=today or timezone.localdate())
