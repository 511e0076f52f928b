"""Meetings: scheduling and invitations, attendance (online and paper), minutes, decisions followed to done."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from shequ.accounts.roles import Role
from shequ.core.attachments import Attachment
from shequ.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from shequ.core.models import AuditAction, AuditEntry, Notification
from shequ.deliberation import deliberation_selectors as sel
from shequ.deliberation import meetings, proposals
from shequ.deliberation.choices import AttendanceSource, DecisionStatus, MeetingKind, MeetingStatus, TopicStatus
from shequ.deliberation.models import Attendance, Decision
from tests.deliberation.fixtures_meetings import *  # noqa: F403  (fixtures: neighbour, _media)
from tests.deliberation.fixtures_meetings import exe_as_jpg, jpeg

pytestmark = pytest.mark.django_db


def _topic(actor: Any, community: Any, title: str = "停车难") -> Any:
    return proposals.topic_create(actor=actor, community=community, title=title)


def _meeting(actors: Any, estate: Any, **kw: Any) -> Any:
    kw.setdefault("topics", [_topic(actors.worker_a1, estate.community)])
    kw.setdefault("people", [estate.owners.zhang])
    return meetings.meeting_schedule(actor=actors.worker_a1, community=estate.community, kind=MeetingKind.HEARING,
                                     title="停车听证会", starts_at=timezone.now() + dt.timedelta(days=2),
                                     location="居委会会议室", **kw)


# --- Scheduling -----------------------------------------------------------------------------------


def test_schedule_puts_topics_on_agenda_and_notifies_invitees(estate: Any, actors: Any) -> None:
    topic = _topic(actors.worker_a1, estate.community)
    m = _meeting(actors, estate, topics=[topic], roles=[Role.GRID_WORKER])
    assert list(m.topics.all()) == [topic]
    topic.refresh_from_db()
    assert topic.status == TopicStatus.SCHEDULED
    told = set(Notification.objects.values_list("user__username", flat=True))
    assert told == {"owner_zhang", "grid_a1"}  # the invited person's account and the invited role's holder
    assert AuditEntry.objects.filter(object_type="deliberation.meeting", action=AuditAction.CREATE).exists()


def test_schedule_refuses_topic_of_another_community(estate: Any, actors: Any, tree: Any) -> None:
    other = _topic(actors.worker_a2, tree.a2, "别的社区议题")
    with pytest.raises(ValidationFailed) as exc:
        _meeting(actors, estate, topics=[other])
    assert "别的社区议题" in exc.value.errors["topics"][0]


def test_schedule_refuses_invitee_of_another_community(estate: Any, actors: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        _meeting(actors, estate, people=[estate.users.outsider.person])
    assert exc.value.errors == {"people": [str(meetings.PERSON_NOT_HERE)]}


def test_worker_of_another_community_cannot_schedule(estate: Any, actors: Any) -> None:
    with pytest.raises(NotFound):
        meetings.meeting_schedule(actor=actors.worker_b1, community=estate.community, kind=MeetingKind.REVIEW,
                                  title="x", starts_at=timezone.now())


# --- Attendance -----------------------------------------------------------------------------------


def test_online_sign_in_by_the_person_once(estate: Any, actors: Any) -> None:
    m = _meeting(actors, estate)
    row = meetings.attendance_record(actor=estate.users.zhang, meeting=m, source=AttendanceSource.ONLINE)
    assert (row.person, row.source, row.name) == (estate.owners.zhang, AttendanceSource.ONLINE, "张**")
    with pytest.raises(ValidationFailed) as exc:
        meetings.attendance_record(actor=estate.users.zhang, meeting=m, source=AttendanceSource.ONLINE)
    assert exc.value.errors == {"__all__": [str(meetings.ALREADY_SIGNED_IN)]}
    assert Attendance.objects.filter(meeting=m).count() == 1


def test_online_sign_in_only_for_oneself(estate: Any, actors: Any) -> None:
    m = _meeting(actors, estate)
    with pytest.raises(PermissionDenied):
        meetings.attendance_record(actor=estate.users.li, meeting=m, person=estate.owners.zhang,
                                   source=AttendanceSource.ONLINE)


def test_resident_of_another_community_cannot_sign_in_or_see(estate: Any, actors: Any) -> None:
    m = _meeting(actors, estate)
    with pytest.raises(NotFound):
        meetings.attendance_record(actor=estate.users.outsider, meeting=m, source=AttendanceSource.ONLINE)
    with pytest.raises(NotFound):
        sel.meeting_get(actor=estate.users.outsider, meeting_id=m.pk)
    with pytest.raises(NotFound):
        sel.meeting_get(actor=actors.worker_b1, meeting_id=m.pk)


def test_paper_sign_in_by_staff_is_audited(estate: Any, actors: Any) -> None:
    m = _meeting(actors, estate)
    row = meetings.attendance_record(actor=actors.worker_a1, meeting=m, person=estate.owners.li,
                                     source=AttendanceSource.PAPER)
    assert (row.recorded_by, row.source) == (actors.worker_a1, AttendanceSource.PAPER)
    entry = AuditEntry.objects.get(object_type="deliberation.attendance", object_id=str(row.pk))
    assert (entry.actor_id, entry.changes["source"]) == (actors.worker_a1.pk, "paper")
    # the person cannot then sign in online a second time
    with pytest.raises(ValidationFailed):
        meetings.attendance_record(actor=estate.users.li, meeting=m, source=AttendanceSource.ONLINE)


def test_paper_sign_in_by_name_and_needs_someone(estate: Any, actors: Any) -> None:
    m = _meeting(actors, estate)
    assert meetings.attendance_record(actor=actors.worker_a1, meeting=m, name="物业王经理",
                                      source=AttendanceSource.PAPER).name == "物业王经理"
    with pytest.raises(ValidationFailed) as exc:
        meetings.attendance_record(actor=actors.worker_a1, meeting=m, source=AttendanceSource.PAPER)
    assert exc.value.errors == {"__all__": [str(meetings.ATTENDEE_REQUIRED)]}


def test_resident_cannot_enter_paper_sign_in(estate: Any, actors: Any) -> None:
    m = _meeting(actors, estate)
    with pytest.raises(PermissionDenied):
        meetings.attendance_record(actor=estate.users.li, meeting=m, person=estate.owners.wang,
                                   source=AttendanceSource.PAPER)


# --- Minutes --------------------------------------------------------------------------------------


def test_minutes_with_attachment_and_publish(estate: Any, actors: Any) -> None:
    m = _meeting(actors, estate)
    saved = meetings.meeting_minutes_save(actor=actors.worker_a1, meeting=m, minutes="一致同意划线停车。",
                                          publish=True, attachments=[jpeg("signin.jpg")], version=m.version)
    assert (saved.status, saved.minutes_published, saved.version) == (MeetingStatus.HELD, True, m.version + 1)
    assert [a.name for a in Attachment.objects.for_object(saved)] == ["signin.jpg"]
    assert list(sel.public_meetings(community=estate.community)) == [saved]


def test_minutes_stale_version_is_refused(estate: Any, actors: Any) -> None:
    m = _meeting(actors, estate)
    meetings.meeting_minutes_save(actor=actors.worker_a1, meeting=m, minutes="v1", version=m.version)
    with pytest.raises(Conflict):
        meetings.meeting_minutes_save(actor=actors.worker_a1, meeting=m, minutes="v2", version=m.version)


def test_minutes_attachment_exe_refused_naming_file(estate: Any, actors: Any) -> None:
    m = _meeting(actors, estate)
    with pytest.raises(ValidationFailed) as exc:
        meetings.meeting_minutes_save(actor=actors.worker_a1, meeting=m, minutes="x", attachments=[exe_as_jpg()])
    assert "virus.jpg" in exc.value.errors["attachments"][0]
    m.refresh_from_db()
    assert m.minutes == ""


# --- Decisions ------------------------------------------------------------------------------------


def test_decision_due_date_rules(estate: Any, actors: Any) -> None:
    m = _meeting(actors, estate)
    today = timezone.localdate()
    with pytest.raises(ValidationFailed) as exc:
        meetings.decision_add(actor=actors.worker_a1, meeting=m, text="划线", responsible=actors.worker_a1,
                              due_on=today - dt.timedelta(days=1))
    assert exc.value.errors == {"due_on": [str(meetings.DUE_IN_PAST)]}
    d = meetings.decision_add(actor=actors.worker_a1, meeting=m, text="划线", responsible=actors.worker_a1,
                              due_on=today)
    assert d.status == DecisionStatus.OPEN


def test_decision_closes_topic_and_notifies_responsible(estate: Any, actors: Any) -> None:
    topic = _topic(actors.worker_a1, estate.community)
    m = _meeting(actors, estate, topics=[topic])
    Notification.objects.all().delete()
    meetings.decision_add(actor=actors.worker_a1, meeting=m, text="划线停车", responsible=actors.grid_a1,
                          due_on=timezone.localdate() + dt.timedelta(days=30), topic=topic)
    topic.refresh_from_db()
    assert topic.status == TopicStatus.DECIDED
    assert list(Notification.objects.values_list("user__username", flat=True)) == ["grid_a1"]


def test_decision_responsible_must_be_in_scope(estate: Any, actors: Any) -> None:
    m = _meeting(actors, estate)
    with pytest.raises(ValidationFailed) as exc:
        meetings.decision_add(actor=actors.worker_a1, meeting=m, text="划线", responsible=actors.worker_b1,
                              due_on=timezone.localdate())
    assert exc.value.errors == {"responsible": [str(meetings.RESPONSIBLE_NOT_HERE)]}


def test_decision_complete_by_responsible_and_overdue_list(estate: Any, actors: Any) -> None:
    m = _meeting(actors, estate)
    d = meetings.decision_add(actor=actors.worker_a1, meeting=m, text="划线", responsible=actors.grid_a1,
                              due_on=timezone.localdate())
    Decision.objects.filter(pk=d.pk).update(due_on=timezone.localdate() - dt.timedelta(days=3))  # time passes
    assert list(sel.decision_overdue(actor=actors.worker_a1)) == [d]
    with pytest.raises(PermissionDenied):
        meetings.decision_complete(actor=estate.users.li, decision=d, outcome="done")
    with pytest.raises(ValidationFailed) as exc:
        meetings.decision_complete(actor=actors.grid_a1, decision=d, outcome=" ")
    assert exc.value.errors == {"outcome": [str(meetings.OUTCOME_REQUIRED)]}
    done = meetings.decision_complete(actor=actors.grid_a1, decision=d, outcome="已划线40个车位")
    assert (done.status, done.outcome) == (DecisionStatus.DONE, "已划线40个车位")
    assert done.done_at is not None
    assert not sel.decision_overdue(actor=actors.worker_a1).exists()
    assert AuditEntry.objects.filter(object_type="deliberation.decision", object_id=str(d.pk),
                                     action=AuditAction.UPDATE, actor=actors.grid_a1).exists()


def test_public_decisions_only_from_published_minutes(estate: Any, actors: Any) -> None:
    m = _meeting(actors, estate)
    d = meetings.decision_add(actor=actors.worker_a1, meeting=m, text="划线", responsible=actors.worker_a1,
                              due_on=timezone.localdate())
    assert not sel.public_decisions(community=estate.community).exists()
    meetings.meeting_minutes_save(actor=actors.worker_a1, meeting=m, minutes="纪要", publish=True)
    assert list(sel.public_decisions(community=estate.community)) == [d]


def test_decision_list_open_and_overdue_first(estate: Any, actors: Any) -> None:
    m = _meeting(actors, estate)
    today = timezone.localdate()
    later = meetings.decision_add(actor=actors.worker_a1, meeting=m, text="后", responsible=actors.worker_a1,
                                  due_on=today + dt.timedelta(days=10))
    done = meetings.decision_add(actor=actors.worker_a1, meeting=m, text="完", responsible=actors.worker_a1,
                                 due_on=today)
    meetings.decision_complete(actor=actors.worker_a1, decision=done, outcome="ok")
    late = meetings.decision_add(actor=actors.worker_a1, meeting=m, text="逾期", responsible=actors.worker_a1,
                                 due_on=today + dt.timedelta(days=20))
    Decision.objects.filter(pk=late.pk).update(due_on=today - dt.timedelta(days=1))
    assert [d.pk for d in sel.decision_list(actor=actors.worker_a1)] == [late.pk, later.pk, done.pk]
    assert not sel.decision_list(actor=actors.worker_b1).exists()
