"""FLOW's fixtures: the seeded categories, and a builder of cases in any state of the workflow."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from shequ.cases import services
from shequ.cases.categories import ensure_categories
from shequ.cases.choices import CaseSource, CaseState, DispatchState
from shequ.cases.models import Case, Dispatch

# Points inside each community's grid (see tests/conftest.py: 0.02° squares at 121.40/121.42/121.50, 31.20).
POINTS = {"a1": (121.41, 31.21), "a2": (121.43, 31.21), "b1": (121.51, 31.21)}
__all__ = ["cats", "flow"]

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def png(name: str = "photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


@pytest.fixture
def cats(db):
    return SimpleNamespace(**ensure_categories())


@pytest.fixture
def flow(tree, actors, grids, departments, reporter, cats):
    """Build cases: ``flow.report()`` through the service; ``flow.in_state(state)`` forced into a state
    with what that state implies (an assignee, a reported dispatch, a low rating...)."""

    def report(*, actor: Any = None, key: str = "a1", category: Any = None, offset: float = 0.0,
               **kw: Any) -> Case:
        lon, lat = POINTS[key]
        return services.case_report(
            actor=actor or reporter, category=category or cats.city_appearance, title=kw.pop("title", "楼道堆物"),
            description=kw.pop("description", "3号楼楼道堆满杂物，影响通行。"),
            source=kw.pop("source", CaseSource.RESIDENT), lon=lon + offset, lat=lat, **kw)

    def in_state(state: str, *, rating: int | None = None, reopened_count: int = 0, **kw: Any) -> Case:
        case = report(**kw)
        fields: dict[str, Any] = {"state": state, "rating": rating, "reopened_count": reopened_count}
        now = timezone.now()
        if state not in (CaseState.NEW, CaseState.REJECTED):
            fields["accepted_at"] = now
        if state == CaseState.IN_PROGRESS:
            fields["assignee"] = actors.grid_a1
        if state == CaseState.DISPATCHED:
            Dispatch.objects.create(case=case, department=departments.housing, task="核查群租",
                                    due_at=now + dt.timedelta(days=3), checkin_due_at=now + dt.timedelta(hours=4),
                                    state=DispatchState.REPORTED, report="已核查处理", reported_at=now)
        if state in (CaseState.RESOLVED, CaseState.CLOSED):
            fields["resolved_at"] = now
        Case.objects.filter(pk=case.pk).update(**fields)
        return Case.objects.get(pk=case.pk)

    return SimpleNamespace(report=report, in_state=in_state, tree=tree, actors=actors, grids=grids,
                           departments=departments, reporter=reporter, cats=cats)
