"""The due sweep: near-due and overdue flags by state, notifications once per flag change, catch-up."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from shequ.cases import services
from shequ.cases import workflow as wf
from shequ.cases.choices import CaseState, DispatchState
from shequ.cases.models import Case, CaseEvent, Dispatch
from shequ.cases.tasks import near_due, sweep_due_cases, sweep_due_cases_task
from shequ.core.models import Notification
from tests.cases.fixtures_flow import *  # noqa: F403

pytestmark = pytest.mark.django_db
H = dt.timedelta(hours=1)


def test_short_limits_are_near_due_from_the_start(flow):
    # a lift fault must be accepted within 1 h: less than 4 h left from the start
    case = flow.report(category=flow.cats.lift_fault)
    assert sweep_due_cases(now=case.created_at + dt.timedelta(minutes=5))["near_due"] == 1


def test_near_due_rule():
    start = timezone.now()
    deadline = start + 100 * H
    assert not near_due(start=start, deadline=deadline, now=start + 79 * H)
    assert near_due(start=start, deadline=deadline, now=start + 81 * H)  # less than 20% left
    short = start + 10 * H
    assert near_due(start=start, deadline=short, now=start + 6.5 * H)  # less than 4 h left
    assert not near_due(start=start, deadline=short, now=start + 11 * H)  # past: overdue, not near due


def test_sweep_after_downtime_flags_everything_and_notifies_once(flow):
    # given a new lift case (accept within 1 h) and an in-progress case, and the worker down for two days
    lift = flow.report(category=flow.cats.lift_fault)
    fresh = flow.report(offset=0.001)
    busy = flow.in_state(CaseState.IN_PROGRESS, offset=0.002)
    Notification.objects.all().delete()
    later = timezone.now() + dt.timedelta(days=20)
    # when the worker catches up
    counts = sweep_due_cases(now=later)
    # then every open case past its deadline is overdue, by the deadline of its state
    lift.refresh_from_db()
    busy.refresh_from_db()
    assert lift.overdue and not lift.near_due
    assert busy.overdue
    assert counts["overdue"] == 3
    # the community is told about the unaccepted case, the assignee about theirs, once each
    assert Notification.objects.filter(user=flow.actors.worker_a1, title__contains=lift.number).count() == 1
    assert Notification.objects.filter(user=flow.actors.grid_a1, title__contains=busy.number).count() == 1
    assert CaseEvent.objects.filter(case=lift, action="overdue").count() == 1
    # and a second sweep changes nothing and says nothing
    before = Notification.objects.count()
    assert sweep_due_cases(now=later + H) == {"overdue": 0, "near_due": 0, "cleared": 0, "dispatch_overdue": 0,
                                              "dispatch_cleared": 0}
    assert Notification.objects.count() == before
    assert fresh.pk in Case.objects.filter(overdue=True).values_list("pk", flat=True)


def test_near_due_then_overdue_then_accepted_moves_to_resolve_deadline(flow):
    case = flow.report(category=flow.cats.illegal_building)  # accept within 24 h
    created = case.created_at
    sweep_due_cases(now=created + 10 * H)
    case.refresh_from_db()
    assert not case.near_due and not case.overdue
    sweep_due_cases(now=created + 20 * H)  # 4 h of 24 left: under 20%
    case.refresh_from_db()
    assert case.near_due and not case.overdue
    sweep_due_cases(now=created + 25 * H)
    case.refresh_from_db()
    assert case.overdue and not case.near_due
    assert list(CaseEvent.objects.filter(case=case, action__in=["near_due", "overdue"])
                .values_list("action", flat=True)) == ["near_due", "overdue"]
    # accepted late: the accept deadline no longer counts; the resolve deadline (10 working days) does
    case = services.case_act(actor=flow.actors.worker_a1, case=case, action=wf.ACCEPT, version=case.version)
    sweep_due_cases(now=created + 25 * H)
    case.refresh_from_db()
    assert not case.overdue


def test_finished_cases_keep_overdue_as_history_and_lose_near_due(flow):
    case = flow.in_state(CaseState.RESOLVED)
    Case.objects.filter(pk=case.pk).update(overdue=True, near_due=True)
    sweep_due_cases(now=timezone.now() + dt.timedelta(days=30))
    case.refresh_from_db()
    assert case.overdue and not case.near_due


def test_dispatch_overdue_by_checkin_then_by_due(flow):
    case = flow.in_state(CaseState.ESCALATED, category=flow.cats.illegal_building)
    due = timezone.now() + dt.timedelta(days=5)
    services.case_act(actor=flow.actors.officer_a, case=case, action=wf.DISPATCH, version=case.version,
                      tasks=[{"department": flow.departments.urban, "task": "拆除", "due_at": due}])
    dispatch = Dispatch.objects.get(case=case)
    Notification.objects.all().delete()
    sweep_due_cases(now=dispatch.checkin_due_at + H)
    dispatch.refresh_from_db()
    assert dispatch.overdue
    notified = set(Notification.objects.values_list("user__username", flat=True))
    assert {"handler_urban", "officer_a"} <= notified
    # checking in late clears the check-in lateness; missing the due date flags it again
    services.dispatch_checkin(actor=flow.departments.urban_handler, dispatch=dispatch)
    sweep_due_cases(now=dispatch.checkin_due_at + 2 * H)
    dispatch.refresh_from_db()
    assert not dispatch.overdue
    sweep_due_cases(now=due + H)
    dispatch.refresh_from_db()
    assert dispatch.overdue and dispatch.state == DispatchState.CHECKED_IN


def test_periodic_task_is_registered_every_five_minutes():
    task = sweep_due_cases_task.task_class()
    assert task.validate_datetime(dt.datetime(2026, 11, 23, 10, 5))
    assert not task.validate_datetime(dt.datetime(2026, 11, 23, 10, 7))
