"""The state machine, exhaustively: every action in every state, by the right and the wrong people."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from shequ.cases import services
from shequ.cases import workflow as wf
from shequ.cases.choices import OPEN_STATES, CaseState
from shequ.cases.models import Case, CaseEvent
from shequ.core.errors import NotFound, PermissionDenied, ValidationFailed
from tests.cases.fixtures_flow import *  # noqa: F403

pytestmark = pytest.mark.django_db

ALL_STATES = list(CaseState.values)
CASES = [(action, state) for action in wf.TRANSITIONS for state in ALL_STATES]


def test_the_table_is_the_documented_flow():
    t = wf.TRANSITIONS
    assert t[wf.ACCEPT].from_states == {CaseState.NEW} and t[wf.ACCEPT].to_state == CaseState.ACCEPTED
    assert t[wf.REJECT].to_state == CaseState.REJECTED
    assert t[wf.ESCALATE].from_states == {CaseState.ACCEPTED, CaseState.IN_PROGRESS}
    assert t[wf.DISPATCH].who == {wf.STREET} and t[wf.VERIFY].who == {wf.STREET}
    assert t[wf.RATE].who == {wf.REPORTER} and t[wf.RATE].from_states == {CaseState.CLOSED}
    assert t[wf.MERGE].from_states == OPEN_STATES
    assert set(t) == set(services.PAYLOAD_KEYS)


def _right_actor(flow, action: str, state: str) -> Any:
    a = flow.actors
    if action in (wf.DISPATCH, wf.VERIFY):
        return a.officer_a
    if action == wf.RATE or (action == wf.REOPEN and state == CaseState.CLOSED):
        return flow.reporter
    return a.worker_a1


def _payload(flow, action: str) -> dict[str, Any]:
    due = timezone.now() + dt.timedelta(days=3)
    return {
        wf.REJECT: {"reason": "不属于社区职责"},
        wf.ASSIGN: {"assignee": flow.actors.grid_a1},
        wf.RESOLVE: {"result": "已处置"},
        wf.ESCALATE: {"reason": "需要执法部门"},
        wf.DISPATCH: {"tasks": [{"department": flow.departments.urban, "task": "执法", "due_at": due}],
                      "override_reason": "按职责改派"},
        wf.REOPEN: {"reason": "问题依旧"},
        wf.RATE: {"rating": 4, "comment": "满意"},
    }.get(action, {})


def _setup(flow, action: str, state: str) -> Case:
    rating = 1 if (action == wf.REOPEN and state == CaseState.CLOSED) else None
    return flow.in_state(state, rating=rating)


@pytest.mark.parametrize(("action", "state"), CASES, ids=[f"{a}-{s}" for a, s in CASES])
def test_every_action_in_every_state(flow, action, state):
    # given a case in ``state``, and the person the table names for ``action``
    case = _setup(flow, action, state)
    actor = _right_actor(flow, action, state)
    payload = _payload(flow, action)
    if action == wf.MERGE:
        payload = {"into": flow.report(offset=0.0003)}
    transition = wf.TRANSITIONS[action]
    if state in transition.from_states:
        # then the move is offered and succeeds, to the table's state, with a timeline entry
        assert action in wf.allowed_actions(actor=actor, case=case)
        moved = services.case_act(actor=actor, case=case, action=action, version=case.version, **payload)
        assert moved.state == transition.to_state
        assert moved.version == case.version + 1
        event = CaseEvent.objects.filter(case=case).last()
        assert (event.action, event.from_state, event.to_state) == (action, state, transition.to_state)
    else:
        # else it is not offered and is refused with the stable code and a message naming state and action
        assert action not in wf.allowed_actions(actor=actor, case=case)
        with pytest.raises(ValidationFailed) as exc:
            services.case_act(actor=actor, case=case, action=action, version=case.version, **payload)
        assert exc.value.code == "invalid_transition"
        assert str(exc.value.message) == str(wf.ILLEGAL_MOVE).format(
            state=CaseState(state).label, action=wf.action_label(action))
        case.refresh_from_db()
        assert case.state == state


ALLOWED = [(a, s) for a, t in wf.TRANSITIONS.items() for s in sorted(t.from_states)]


def _wrong_actor(flow, action: str, state: str) -> Any:
    """Someone who sees the case but is not a party the table names."""
    a = flow.actors
    if action in (wf.DISPATCH, wf.VERIFY):
        return a.worker_a1  # community, not street
    if action == wf.RATE or (action == wf.REOPEN and state == CaseState.CLOSED):
        return a.worker_a1  # staff, not the reporter
    if action == wf.CLOSE or (action == wf.REOPEN and state == CaseState.RESOLVED):
        return flow.reporter
    return a.officer_a if action in (wf.ACCEPT, wf.REJECT, wf.ASSIGN, wf.MERGE) else flow.reporter


@pytest.mark.parametrize(("action", "state"), ALLOWED, ids=[f"{a}-{s}" for a, s in ALLOWED])
def test_wrong_person_is_refused_and_out_of_scope_is_not_found(flow, action, state):
    case = _setup(flow, action, state)
    payload = _payload(flow, action)
    wrong = _wrong_actor(flow, action, state)
    assert action not in wf.allowed_actions(actor=wrong, case=case)
    with pytest.raises(PermissionDenied) as exc:
        services.case_act(actor=wrong, case=case, action=action, version=case.version, **payload)
    assert exc.value.code == "action_not_permitted"
    for outsider in (flow.actors.worker_a2, flow.actors.officer_b, flow.departments.urban_handler):
        with pytest.raises(NotFound):
            services.case_act(actor=outsider, case=case, action=action, version=case.version, **payload)
    case.refresh_from_db()
    assert case.state == state


def test_unknown_action(flow):
    case = flow.report()
    with pytest.raises(ValidationFailed) as exc:
        services.case_act(actor=flow.actors.worker_a1, case=case, action="teleport", version=case.version)
    assert exc.value.code == "unknown_action"


def test_assignee_may_resolve_and_escalate_but_not_accept(flow):
    case = flow.in_state(CaseState.IN_PROGRESS)
    case.assignee = flow.reporter  # a case assigned to someone without CASES_HANDLE is still theirs to finish
    Case.objects.filter(pk=case.pk).update(assignee=flow.reporter)
    assert wf.allowed_actions(actor=flow.reporter, case=case) == [wf.RESOLVE, wf.ESCALATE]


def test_allowed_actions_per_role(flow):
    new = flow.report()
    assert wf.allowed_actions(actor=flow.actors.worker_a1, case=new) == [wf.ACCEPT, wf.REJECT, wf.MERGE]
    assert wf.allowed_actions(actor=flow.actors.admin, case=new) == [wf.ACCEPT, wf.REJECT, wf.MERGE]
    assert wf.allowed_actions(actor=flow.reporter, case=new) == []
    assert wf.allowed_actions(actor=flow.actors.officer_a, case=new) == []
    assert wf.allowed_actions(actor=None, case=new) == []
    escalated = flow.in_state(CaseState.ESCALATED)
    assert wf.allowed_actions(actor=flow.actors.officer_a, case=escalated) == [wf.DISPATCH]
