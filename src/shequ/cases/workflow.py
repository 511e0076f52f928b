"""The case state machine (工单流转): ONE table of every move, who may make it, and the refusals.

``TRANSITIONS[action] = Transition(from_states, to_state, who)``. ``who`` names the parties that may
fire the action; a party is decided for one actor and one case by ``is_party``:

- ``reporter``: the resident (or worker) who reported the case;
- ``assignee``: the person the case is assigned to;
- ``community``: community staff holding ``CASES_HANDLE`` over the case's place (grid worker,
  community worker, community head; the district admin holds every capability);
- ``street``: a street officer holding ``CASES_DISPATCH`` over the case's place;
- ``handled_by``: whoever owns the close — the street for a case it dispatched, the community
  otherwise ("街道核查结案" / "社区结案").

Dispatch moves (department check-in, report, return) are the department handler's and live in
``DISPATCH_TRANSITIONS``. Guards that depend on the case's data (a rating of at most 2 to reopen,
a single reopen, a single rating) are in ``GUARDS``; guards on the payload (a reason, a result) are
checked by ``services.case_act``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from shequ.accounts.roles import Capability
from shequ.cases.choices import OPEN_STATES, CaseState, DispatchState
from shequ.cases.models import Case, Dispatch
from shequ.core.errors import PermissionDenied, ValidationFailed
from shequ.core.scope import actor_can_at

S = CaseState

REPORTER = "reporter"
ASSIGNEE = "assignee"
COMMUNITY = "community"
STREET = "street"
HANDLED_BY = "handled_by"
DEPARTMENT = "department"

ACCEPT = "accept"
REJECT = "reject"
ASSIGN = "assign"
RESOLVE = "resolve"
ESCALATE = "escalate"
DISPATCH = "dispatch"
VERIFY = "verify"
CLOSE = "close"
REOPEN = "reopen"
RATE = "rate"
MERGE = "merge"

CHECKIN = "checkin"
REPORT = "report"
RETURN = "return"


@dataclass(frozen=True)
class Transition:
    from_states: frozenset[str]
    to_state: str
    who: frozenset[str]


def _t(from_states: set[str] | frozenset[str], to_state: str, *who: str) -> Transition:
    return Transition(frozenset(str(s) for s in from_states), str(to_state), frozenset(who))


TRANSITIONS: dict[str, Transition] = {
    ACCEPT: _t({S.NEW}, S.ACCEPTED, COMMUNITY),
    REJECT: _t({S.NEW}, S.REJECTED, COMMUNITY),
    ASSIGN: _t({S.ACCEPTED, S.IN_PROGRESS}, S.IN_PROGRESS, COMMUNITY),
    RESOLVE: _t({S.ACCEPTED, S.IN_PROGRESS}, S.RESOLVED, COMMUNITY, ASSIGNEE),
    ESCALATE: _t({S.ACCEPTED, S.IN_PROGRESS}, S.ESCALATED, COMMUNITY, ASSIGNEE),
    DISPATCH: _t({S.ESCALATED, S.DISPATCHED}, S.DISPATCHED, STREET),
    VERIFY: _t({S.DISPATCHED}, S.RESOLVED, STREET),
    CLOSE: _t({S.RESOLVED}, S.CLOSED, HANDLED_BY),
    # From resolved: the check failed (核查不通过), back to handling. From closed: an unhappy reporter, once.
    REOPEN: _t({S.RESOLVED, S.CLOSED}, S.IN_PROGRESS, HANDLED_BY, REPORTER),
    RATE: _t({S.CLOSED}, S.CLOSED, REPORTER),
    MERGE: _t(OPEN_STATES, S.MERGED, COMMUNITY),
}

DISPATCH_TRANSITIONS: dict[str, Transition] = {
    CHECKIN: _t({DispatchState.PENDING}, DispatchState.CHECKED_IN, DEPARTMENT),
    REPORT: _t({DispatchState.CHECKED_IN}, DispatchState.REPORTED, DEPARTMENT),
    RETURN: _t({DispatchState.PENDING, DispatchState.CHECKED_IN}, DispatchState.RETURNED, DEPARTMENT),
}

# Timeline-only steps (not moves of the state machine). "reported" is the case's first step; a
# department's REPORT ("report") is its handling report.
REPORTED = "reported"
ALERT = "alert"

ACTION_LABELS: dict[str, Any] = {
    REPORTED: _("上报"),
    ALERT: _("物联告警"),
    ACCEPT: _("受理"),
    REJECT: _("不予受理"),
    ASSIGN: _("指派"),
    RESOLVE: _("处置完成"),
    ESCALATE: _("社区呼叫"),
    DISPATCH: _("街道吹哨派单"),
    VERIFY: _("核查通过"),
    CLOSE: _("结案"),
    REOPEN: _("重新办理"),
    RATE: _("评价"),
    MERGE: _("合并"),
    CHECKIN: _("部门报到"),
    REPORT: _("反馈处置结果"),
    RETURN: _("退回"),
    "dispatch_return": _("退回"),
    "dispatch_report": _("反馈处置结果"),
    "dispatch_checkin": _("部门报到"),
    "near_due": _("临期提醒"),
    "overdue": _("超期"),
    "merged_from": _("合并来件"),
}

UNKNOWN_ACTION = _("未知的操作“{action}”。")
ILLEGAL_MOVE = _("工单当前状态为“{state}”，不能执行“{action}”。")
DISPATCH_ILLEGAL_MOVE = _("派单当前状态为“{state}”，不能执行“{action}”。")
NOT_YOUR_MOVE = _("您不能对该工单执行“{action}”：{who}。")
NOT_YOUR_DISPATCH = _("只有被派单部门的处置人员才能执行“{action}”。")
ALREADY_RATED = _("该工单已评价过。")
REOPEN_NEEDS_LOW_RATING = _("只有评价为2分及以下的工单才能由上报人申请重新办理。")
REOPEN_ONLY_ONCE = _("该工单已重新办理过一次，不能再次重新办理。")

WHO_LABELS: dict[str, Any] = {
    REPORTER: _("上报人"),
    ASSIGNEE: _("处置人"),
    COMMUNITY: _("社区工作人员"),
    STREET: _("街道干部"),
    HANDLED_BY: _("负责结案的社区或街道"),
    DEPARTMENT: _("被派单部门"),
}


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def state_label(state: str) -> str:
    try:
        return str(CaseState(state).label)
    except ValueError:
        try:
            return str(DispatchState(state).label)
        except ValueError:
            return state


def _is_authenticated(actor: Any) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False) and getattr(actor, "is_active", False)


def was_dispatched(case: Case) -> bool:
    """Whether the street took the case over (it then verifies and closes it)."""
    cached = getattr(case, "_was_dispatched", None)
    if cached is None:
        cached = case.pk is not None and case.dispatches.exists()
        case._was_dispatched = cached  # type: ignore[attr-defined]
    return bool(cached)


def is_party(actor: Any, case: Case, party: str) -> bool:
    """Whether ``actor`` is ``party`` for ``case``. ``None`` (the platform) is no party."""
    if not _is_authenticated(actor):
        return False
    if party == REPORTER:
        return case.reporter_id is not None and case.reporter_id == actor.pk
    if party == ASSIGNEE:
        return case.assignee_id is not None and case.assignee_id == actor.pk
    if party == COMMUNITY:
        return actor_can_at(actor, case.scope_path, Capability.CASES_HANDLE)
    if party == STREET:
        return actor_can_at(actor, case.scope_path, Capability.CASES_DISPATCH)
    if party == HANDLED_BY:
        return is_party(actor, case, STREET if was_dispatched(case) else COMMUNITY)
    return False


def _guard_rate(case: Case, actor: Any) -> Any | None:
    return ALREADY_RATED if case.rating is not None else None


def _guard_reopen(case: Case, actor: Any) -> Any | None:
    if case.state != S.CLOSED:
        return None  # from resolved: the closing level sends it back; no limit
    if case.reopened_count >= 1:
        return REOPEN_ONLY_ONCE
    if case.rating is None or case.rating > 2:
        return REOPEN_NEEDS_LOW_RATING
    return None


def _reopen_who(case: Case) -> frozenset[str]:
    return frozenset({REPORTER}) if case.state == S.CLOSED else frozenset({HANDLED_BY})


GUARDS: dict[str, Callable[[Case, Any], Any | None]] = {RATE: _guard_rate, REOPEN: _guard_reopen}


def parties_for(action: str, case: Case) -> frozenset[str]:
    """Who may fire ``action`` on ``case`` in its current state (reopen: reporter from closed,
    the closing level from resolved)."""
    if action == REOPEN:
        return _reopen_who(case)
    return TRANSITIONS[action].who


def check_transition(*, actor: Any, case: Case, action: str) -> Transition:
    """The transition, or the refusal: unknown action, wrong state, wrong person, failed guard."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise ValidationFailed({"action": str(UNKNOWN_ACTION).format(action=action)}, code="unknown_action")
    if case.state not in transition.from_states:
        raise ValidationFailed(
            {"__all__": str(ILLEGAL_MOVE).format(state=state_label(case.state), action=action_label(action))},
            code="invalid_transition",
        )
    who = parties_for(action, case)
    if not any(is_party(actor, case, party) for party in who):
        names = "、".join(str(WHO_LABELS[p]) for p in sorted(who))
        raise PermissionDenied(
            str(NOT_YOUR_MOVE).format(action=action_label(action), who=_("只有{names}可以操作").format(names=names)),
            code="action_not_permitted",
        )
    guard = GUARDS.get(action)
    problem = guard(case, actor) if guard else None
    if problem is not None:
        raise ValidationFailed({"__all__": str(problem)}, code=f"{action}_refused")
    return transition


def allowed_actions(*, actor: Any, case: Case) -> list[str]:
    """The actions ``actor`` may fire on ``case`` now, in table order (payload checks aside)."""
    result = []
    for action in TRANSITIONS:
        try:
            check_transition(actor=actor, case=case, action=action)
        except (ValidationFailed, PermissionDenied):
            continue
        result.append(action)
    return result


def is_department_handler(actor: Any, dispatch: Dispatch) -> bool:
    if not _is_authenticated(actor) or actor.department_id is None:
        return False
    return bool(actor.department_id == dispatch.department_id)


def check_dispatch_transition(*, actor: Any, dispatch: Dispatch, action: str) -> Transition:
    transition = DISPATCH_TRANSITIONS[action]
    if dispatch.case.state != S.DISPATCHED or dispatch.state not in transition.from_states:
        state = dispatch.state if dispatch.case.state == S.DISPATCHED else dispatch.case.state
        raise ValidationFailed(
            {"__all__": str(DISPATCH_ILLEGAL_MOVE if dispatch.case.state == S.DISPATCHED else ILLEGAL_MOVE).format(
                state=state_label(state), action=action_label(action))},
            code="invalid_transition",
        )
    if not is_department_handler(actor, dispatch):
        raise PermissionDenied(str(NOT_YOUR_DISPATCH).format(action=action_label(action)), code="action_not_permitted")
    return transition


def allowed_dispatch_actions(*, actor: Any, dispatch: Dispatch) -> list[str]:
    result = []
    for action in DISPATCH_TRANSITIONS:
        try:
            check_dispatch_transition(actor=actor, dispatch=dispatch, action=action)
        except (ValidationFailed, PermissionDenied):
            continue
        result.append(action)
    return result
