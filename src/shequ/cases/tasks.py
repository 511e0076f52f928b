"""Periodic work of the case loop: flag near-due and overdue cases and dispatches (临期/超期预警).

``sweep_due_cases`` recomputes the flags from the deadlines and the current state, so a sweep after
the worker was down flags everything correctly at once; it notifies the responsible people only when
a flag turns on (not on every sweep), so catching up does not spam.

The deadline that counts depends on the state: ``new`` → the accept deadline (受理时限); accepted,
in progress, escalated, dispatched → the resolve deadline (处置时限). Cases in other states keep their
``overdue`` flag as history and lose ``near_due``. A dispatch is overdue when it is pending after its
check-in deadline or not reported after its due date.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from shequ.cases import services
from shequ.cases.choices import CaseState, DispatchState
from shequ.cases.models import Case, CaseEvent, Dispatch
from shequ.cases.numbers import number_sequences_prune

S = CaseState
ACCEPT_PHASE = [S.NEW]
RESOLVE_PHASE = [S.ACCEPTED, S.IN_PROGRESS, S.ESCALATED, S.DISPATCHED]
NEAR_DUE_FRACTION = 0.2
NEAR_DUE_HOURS = 4
# Resolve limits are at most a few weeks: a case more than this far from its deadline is not near due.
HORIZON = dt.timedelta(days=10)

NEAR_DUE_TITLE = _("临期提醒：工单{number}将于{due}到期")
OVERDUE_TITLE = _("超期：工单{number}已超过{what}")
DISPATCH_OVERDUE_TITLE = _("超期：派给{department}的工单{number}已超过{what}")
WHAT_ACCEPT = _("受理时限")
WHAT_RESOLVE = _("处置时限")
WHAT_CHECKIN = _("报到时限")
WHAT_DUE = _("完成期限")


def near_due(*, start: dt.datetime, deadline: dt.datetime, now: dt.datetime) -> bool:
    """Less than 20% of the allowed time, or less than 4 hours, left (and not yet past)."""
    left = deadline - now
    if left <= dt.timedelta(0):
        return False
    return left < (deadline - start) * NEAR_DUE_FRACTION or left < dt.timedelta(hours=NEAR_DUE_HOURS)


def _deadline(case: Case) -> tuple[dt.datetime | None, Any]:
    if case.state in ACCEPT_PHASE:
        return case.accept_due_at, WHAT_ACCEPT
    if case.state in RESOLVE_PHASE:
        return case.resolve_due_at, WHAT_RESOLVE
    return None, None


def _responsible(case: Case) -> list[Any]:
    if case.state == S.NEW:
        return services.community_staff(case)
    if case.state in (S.ESCALATED, S.DISPATCHED):
        return services.street_officers(case)
    return [case.assignee] if case.assignee_id else services.community_staff(case)


def _flags(case: Case, now: dt.datetime) -> tuple[bool, bool]:
    """(overdue, near_due) as they should be now."""
    deadline, _what = _deadline(case)
    if deadline is None:
        return case.overdue, False
    return deadline <= now, near_due(start=case.created_at, deadline=deadline, now=now)


def _sweep_case(case: Case, now: dt.datetime) -> str | None:
    deadline, what = _deadline(case)
    new_overdue, new_near = _flags(case, now)
    if (new_overdue, new_near) == (case.overdue, case.near_due):
        return None
    turned_on = (new_overdue and not case.overdue) or (new_near and not case.near_due)
    # update() rather than save(): the flags are the worker's, not a user's edit (no version bump).
    Case.objects.filter(pk=case.pk).update(overdue=new_overdue, near_due=new_near)
    if not turned_on or deadline is None:
        return "cleared"
    kind = "overdue" if new_overdue else "near_due"
    local_due = f"{timezone.localtime(deadline):%m-%d %H:%M}"
    title = (str(OVERDUE_TITLE).format(number=case.number, what=what) if new_overdue
             else str(NEAR_DUE_TITLE).format(number=case.number, due=local_due))
    CaseEvent.objects.create(case=case, at=now, action=kind, from_state=case.state, to_state=case.state,
                             note=title, data={"deadline": deadline.isoformat()})
    services._notify(users=_responsible(case), actor=None, title=title, body=case.title,
                     link=services.case_link(case))
    return kind


def _sweep_dispatch(dispatch: Dispatch, now: dt.datetime) -> str | None:
    late_checkin = dispatch.state == DispatchState.PENDING and dispatch.checkin_due_at <= now
    late_report = dispatch.state in (DispatchState.PENDING, DispatchState.CHECKED_IN) and dispatch.due_at <= now
    overdue = late_checkin or late_report
    if overdue == dispatch.overdue:
        return None
    Dispatch.objects.filter(pk=dispatch.pk).update(overdue=overdue)
    if not overdue:
        return "cleared"
    what = WHAT_DUE if late_report else WHAT_CHECKIN
    case = dispatch.case
    title = str(DISPATCH_OVERDUE_TITLE).format(department=dispatch.department.name, number=case.number, what=what)
    CaseEvent.objects.create(case=case, at=now, action="dispatch_overdue", from_state=case.state,
                             to_state=case.state, note=title, data={"dispatch": dispatch.pk})
    services._notify(users=[*services.department_handlers(dispatch.department), *services.street_officers(case)],
                     actor=None, title=title, body=dispatch.task[:200], link=services.case_link(case))
    return "overdue"


def sweep_due_cases(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Recompute near-due/overdue flags of open cases and dispatches; notify on each flag turning on."""
    now = now or timezone.now()
    counts = {"overdue": 0, "near_due": 0, "cleared": 0, "dispatch_overdue": 0, "dispatch_cleared": 0}
    horizon = now + HORIZON
    candidates = Case.objects.filter(
        Q(state__in=ACCEPT_PHASE, accept_due_at__lte=horizon)
        | Q(state__in=RESOLVE_PHASE, resolve_due_at__lte=horizon)
        | Q(near_due=True)
        | Q(overdue=True, state__in=ACCEPT_PHASE + RESOLVE_PHASE)
    ).only("id", "state", "created_at", "accept_due_at", "resolve_due_at", "overdue", "near_due").order_by("id")
    # Read without locks; lock and recompute only the few rows whose flags change.
    changing = [c.pk for c in candidates.iterator(chunk_size=2000) if _flags(c, now) != (c.overdue, c.near_due)]
    for pk in changing:
        with transaction.atomic():
            case = Case.objects.select_for_update(of=("self",)).select_related("assignee").filter(pk=pk).first()
            if case is None:
                continue
            outcome = _sweep_case(case, now)
            if outcome:
                counts[outcome] += 1
    # Reported, returned and verified dispatches keep their flag as history.
    dispatches = Dispatch.objects.filter(
        Q(state=DispatchState.PENDING, checkin_due_at__lte=now)
        | Q(state__in=[DispatchState.PENDING, DispatchState.CHECKED_IN], due_at__lte=now)
        | Q(overdue=True, state__in=[DispatchState.PENDING, DispatchState.CHECKED_IN])
    ).select_related("case", "department").order_by("id")
    for dispatch in dispatches:
        with transaction.atomic():
            outcome = _sweep_dispatch(dispatch, now)
            if outcome:
                counts["dispatch_" + outcome] += 1
    return counts


@db_periodic_task(crontab(minute="*/5"))
def sweep_due_cases_task() -> dict[str, int]:
    return sweep_due_cases()


@db_periodic_task(crontab(hour="2", minute="41"))
def number_sequences_prune_task() -> int:
    return number_sequences_prune()
