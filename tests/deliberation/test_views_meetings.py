"""Meeting pages: scheduling, attendance (online and paper), minutes, decisions and their follow-up; scope."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from shequ.core.models import AuditEntry
from shequ.deliberation import meetings, proposals
from shequ.deliberation.choices import AttendanceSource, DecisionStatus, MeetingKind, MeetingStatus
from shequ.deliberation.models import Attendance, Decision, Meeting
from tests.deliberation.fixtures_meetings import *  # noqa: F403  (fixtures: neighbour, _media)
from tests.deliberation.fixtures_meetings import jpeg

pytestmark = pytest.mark.django_db


def _as(client: Any, user: Any) -> Any:
    client.force_login(user)
    return client


def _url(name: str, *args: Any) -> str:
    return reverse(f"deliberation:{name}", args=args)


@pytest.fixture
def meeting(estate: Any, actors: Any) -> Meeting:
    topic = proposals.topic_create(actor=actors.worker_a1, community=estate.community, title="停车难")
    return meetings.meeting_schedule(actor=actors.worker_a1, community=estate.community, kind=MeetingKind.COORDINATION,
                                     title="停车协调会", starts_at=timezone.now() + dt.timedelta(days=1),
                                     location="会议室", topics=[topic], people=[estate.owners.zhang])


@pytest.fixture
def decision(meeting: Meeting, actors: Any) -> Decision:
    return meetings.decision_add(actor=actors.worker_a1, meeting=meeting, text="划线停车", responsible=actors.grid_a1,
                                 due_on=timezone.localdate() + dt.timedelta(days=7))


# --- Scope ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["worker_b1", "worker_a2", "officer_b"])
def test_other_communities_staff_get_404_everywhere(client: Any, actors: Any, meeting: Meeting, decision: Decision,
                                                    who: str) -> None:
    c = _as(client, getattr(actors, who))
    for name in ("meeting_detail", "meeting_minutes"):
        assert c.get(_url(name, meeting.pk)).status_code == 404
    for name, data in (("attendance_add", {"name": "x"}), ("decision_add", {"text": "x"}), ("meeting_sign_in", {})):
        assert c.post(_url(name, meeting.pk), data).status_code == 404
    assert c.post(_url("decision_complete", decision.pk), {"outcome": "x"}).status_code == 404
    assert "划线停车" not in c.get(_url("decision_list")).content.decode()
    assert "停车协调会" not in c.get(_url("meeting_list")).content.decode()


def test_resident_of_another_community_gets_404(client: Any, estate: Any, meeting: Meeting) -> None:
    c = _as(client, estate.users.outsider)
    assert c.get(_url("meeting_detail", meeting.pk)).status_code == 404
    assert c.post(_url("meeting_sign_in", meeting.pk)).status_code == 404


# --- Scheduling -----------------------------------------------------------------------------------


def test_worker_schedules_meeting(client: Any, estate: Any, actors: Any) -> None:
    topic = proposals.topic_create(actor=actors.worker_a1, community=estate.community, title="加装电梯")
    c = _as(client, actors.worker_a1)
    assert c.get(_url("meeting_create")).status_code == 200
    response = c.post(_url("meeting_create"), {
        "community": estate.community.pk, "kind": MeetingKind.HEARING, "title": "电梯听证会",
        "starts_at": "2030-05-01T19:00", "location": "活动室", "topics": [topic.pk], "roles": ["resident"],
        "people": [estate.owners.li.pk]})
    meeting = Meeting.objects.get(title="电梯听证会")
    assert response["Location"] == _url("meeting_detail", meeting.pk)
    page = c.get(response["Location"]).content.decode()
    assert "加装电梯" in page and "听证会" in page and "李**" in page
    assert "李业主" not in page  # invitees are masked


def test_resident_cannot_schedule(client: Any, estate: Any) -> None:
    assert _as(client, estate.users.li).get(_url("meeting_create")).status_code == 403


# --- Attendance -----------------------------------------------------------------------------------


def test_resident_signs_in_online(client: Any, estate: Any, meeting: Meeting) -> None:
    c = _as(client, estate.users.zhang)
    assert "线上签到" in c.get(_url("meeting_detail", meeting.pk)).content.decode()
    page = c.post(_url("meeting_sign_in", meeting.pk), follow=True).content.decode()
    assert "签到成功" in page and "您已签到" in page
    page = c.post(_url("meeting_sign_in", meeting.pk), follow=True).content.decode()
    assert str(meetings.ALREADY_SIGNED_IN) in page
    assert Attendance.objects.filter(meeting=meeting, source=AttendanceSource.ONLINE).count() == 1


def test_paper_sign_in_entered_by_staff_is_audited(client: Any, estate: Any, actors: Any, meeting: Meeting) -> None:
    c = _as(client, actors.worker_a1)
    page = c.post(_url("attendance_add", meeting.pk), {"person": estate.owners.wang.pk}, follow=True).content.decode()
    assert "已录入纸质签到" in page and "王**" in page and "纸质签到录入" in page
    row = Attendance.objects.get(meeting=meeting)
    assert AuditEntry.objects.filter(object_type="deliberation.attendance", object_id=str(row.pk),
                                     actor=actors.worker_a1).exists()
    response = c.post(_url("attendance_add", meeting.pk), {})
    assert response.status_code == 400
    assert str(meetings.ATTENDEE_REQUIRED) in response.content.decode()


def test_resident_cannot_enter_paper_sign_in(client: Any, estate: Any, meeting: Meeting) -> None:
    c = _as(client, estate.users.li)
    assert c.post(_url("attendance_add", meeting.pk), {"name": "x"}).status_code == 403
    assert "录入纸质签到" not in c.get(_url("meeting_detail", meeting.pk)).content.decode()


# --- Minutes --------------------------------------------------------------------------------------


def test_minutes_with_attachment_and_publish(client: Any, actors: Any, estate: Any, meeting: Meeting) -> None:
    c = _as(client, actors.worker_a1)
    assert c.get(_url("meeting_minutes", meeting.pk)).status_code == 200
    response = c.post(_url("meeting_minutes", meeting.pk), {
        "minutes": "同意划线停车。", "publish": "on", "version": meeting.version, "attachments": [jpeg("sheet.jpg")]})
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert (meeting.status, meeting.minutes_published) == (MeetingStatus.HELD, True)
    # residents see published minutes
    page = _as(client, estate.users.li).get(_url("meeting_detail", meeting.pk)).content.decode()
    assert "同意划线停车" in page and "sheet.jpg" in page


def test_minutes_stale_version_shows_conflict(client: Any, actors: Any, meeting: Meeting) -> None:
    c = _as(client, actors.worker_a1)
    c.post(_url("meeting_minutes", meeting.pk), {"minutes": "v1", "version": meeting.version})
    response = c.post(_url("meeting_minutes", meeting.pk), {"minutes": "v2", "version": meeting.version})
    assert response.status_code == 200
    assert "数据已被他人修改" in response.content.decode()
    meeting.refresh_from_db()
    assert meeting.minutes == "v1"


def test_resident_cannot_edit_minutes(client: Any, estate: Any, meeting: Meeting) -> None:
    assert _as(client, estate.users.li).get(_url("meeting_minutes", meeting.pk)).status_code == 403


# --- Decisions ------------------------------------------------------------------------------------


def test_decision_with_past_due_date_shows_error(client: Any, actors: Any, meeting: Meeting) -> None:
    past = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    response = _as(client, actors.worker_a1).post(_url("decision_add", meeting.pk), {
        "text": "划线", "responsible": actors.grid_a1.pk, "due_on": past})
    assert response.status_code == 400
    assert str(meetings.DUE_IN_PAST) in response.content.decode()
    assert not Decision.objects.exists()


def test_decision_added_and_completed_from_follow_up_list(client: Any, actors: Any, meeting: Meeting) -> None:
    c = _as(client, actors.worker_a1)
    due = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    c.post(_url("decision_add", meeting.pk), {"text": "划线停车", "responsible": actors.grid_a1.pk, "due_on": due})
    decision = Decision.objects.get()
    # the responsible grid worker finds it in the follow-up list and completes it
    g = _as(client, actors.grid_a1)
    page = g.get(_url("decision_list")).content.decode()
    assert "划线停车" in page and "完成" in page
    page = g.post(_url("decision_complete", decision.pk), {"outcome": "已划线", "version": decision.version,
                                                           "next": _url("decision_list")}, follow=True)
    assert "决议已标记为完成" in page.content.decode()
    decision.refresh_from_db()
    assert (decision.status, decision.outcome) == (DecisionStatus.DONE, "已划线")


def test_overdue_decisions_are_listed_first(client: Any, actors: Any, meeting: Meeting, decision: Decision) -> None:
    Decision.objects.filter(pk=decision.pk).update(due_on=timezone.localdate() - dt.timedelta(days=2))
    page = _as(client, actors.worker_a1).get(_url("decision_list") + "?status=overdue").content.decode()
    assert "有 1 项决议已逾期未完成" in page and "划线停车" in page and "已逾期" in page


def test_completing_without_outcome_is_refused(client: Any, actors: Any, decision: Decision) -> None:
    page = _as(client, actors.grid_a1).post(_url("decision_complete", decision.pk), {"outcome": ""}, follow=True)
    assert "请填写落实情况" in page.content.decode()
    decision.refresh_from_db()
    assert decision.status == DecisionStatus.OPEN


def test_external_next_is_ignored(client: Any, actors: Any, decision: Decision) -> None:
    response = _as(client, actors.grid_a1).post(_url("decision_complete", decision.pk),
                                                {"outcome": "ok", "next": "https://evil.example/"})
    assert response["Location"] == _url("decision_list")
