"""Demo cases: walked through the services into every state, then moved into the past consistently."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from shequ.accounts.roles import Role
from shequ.cases.choices import CaseState
from shequ.cases.models import Case, CaseEvent
from shequ.cases.seed import HISTORY_DAYS, seed_demo_cases
from shequ.cases.stats import case_figures

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(actors, departments):
    return {Role.DISTRICT_ADMIN: actors.admin, Role.STREET_OFFICER: actors.officer_a,
            Role.COMMUNITY_WORKER: actors.worker_a1, Role.COMMUNITY_HEAD: actors.head_a1,
            Role.GRID_WORKER: actors.grid_a1, Role.DEPARTMENT_HANDLER: departments.urban_handler}


def test_seed_demo_cases_builds_a_consistent_history(tree, grids, staff, reporter, actors):
    # given the demo street with staff, grids, departments and a resident
    before = timezone.now()
    # when the demo cases are seeded
    counts = seed_demo_cases(street=tree.street_a, staff=staff, resident=reporter, count=60, seed=7)
    after = timezone.now()
    # then every case is in street A, in many states, with a real timeline starting at its report
    cases = list(Case.objects.all())
    assert counts["case"] == len(cases) == 60
    assert all(c.street_code == tree.street_a.path for c in cases)
    states = {c.state for c in cases}
    assert {CaseState.NEW, CaseState.CLOSED, CaseState.IN_PROGRESS}.issubset(states)
    assert len(states) >= 6
    assert Case.objects.filter(dispatches__isnull=False).exists()
    assert Case.objects.filter(rating__isnull=False).exists()
    for case in cases:
        events = list(CaseEvent.objects.filter(case=case).order_by("at", "id"))
        assert events[0].action == "reported"
        assert events[0].at == case.created_at
        assert [e.at for e in events] == sorted(e.at for e in events)
        assert before - dt.timedelta(days=HISTORY_DAYS + 1) <= case.created_at <= before
        assert events[-1].at <= after  # the due-date sweep's flags are stamped at seeding time
        if case.accepted_at:
            assert case.created_at <= case.accepted_at
        if case.closed_at and case.accepted_at:
            assert case.accepted_at <= case.closed_at
        assert case.resolve_due_at > case.created_at


def test_seeded_cases_feed_the_figures(tree, grids, staff, reporter, actors):
    seed_demo_cases(street=tree.street_a, staff=staff, resident=reporter, count=30, seed=3)
    figures = case_figures(actor=actors.officer_a, since=timezone.now() - dt.timedelta(days=HISTORY_DAYS + 1))
    assert figures["total"] == 30
    assert figures["accept_minutes"]["count"] > 0
    # the other street sees none of them
    assert case_figures(actor=actors.officer_b)["total"] == 0


def test_seed_without_an_admin_adds_nothing(tree, grids):
    assert seed_demo_cases(street=tree.street_a, staff={}, count=5)["case"] == 0
    assert not Case.objects.exists()
