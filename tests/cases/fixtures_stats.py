"""Fixtures for the figures tests: categories and cases written directly with chosen timestamps.

The figures are about stored facts (states, times, ratings), so these cases are inserted as rows rather
than walked through the workflow — the timestamps must be exact to hand-compute medians and buckets.
"""

from __future__ import annotations

import datetime as dt
import itertools
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shequ.cases.choices import CaseSource, CaseState
from shequ.cases.models import Case, CaseCategory
from shequ.registry.models import Grid, Place

SHANGHAI = ZoneInfo("Asia/Shanghai")
_numbers = itertools.count(1)


def at(day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A moment in November 2026, Shanghai time (2 November 2026 is a Monday)."""
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def stat_case(*, community: Place, category: CaseCategory, grid: Grid | None, state: str, created: dt.datetime,
              accept_after: int | None = None, close_after: int | None = None, due_after: int | None = None,
              overdue: bool = False, rating: int | None = None) -> Case:
    """A case row; ``*_after`` are minutes after ``created``."""
    def later(minutes: int | None) -> dt.datetime | None:
        return created + dt.timedelta(minutes=minutes) if minutes is not None else None

    case = Case(number=f"T{next(_numbers):08d}", category=category, title="测试工单", description="测试",
                source=CaseSource.GRID_PATROL, state=state, place=community, community=community, grid=grid,
                accepted_at=later(accept_after), closed_at=later(close_after), resolve_due_at=later(due_after),
                overdue=overdue, rating=rating)
    case.set_scope(community.path)
    case.save()
    Case.objects.filter(pk=case.pk).update(created_at=created)  # auto_now_add cannot be set on save
    case.created_at = created
    return case


@pytest.fixture
def stat_categories(db: Any) -> SimpleNamespace:
    """Two parents; 市容环境 has two leaves, 噪声扰民 one."""
    p1 = CaseCategory.objects.create(slug="t-city", name="市容环境")
    p2 = CaseCategory.objects.create(slug="t-noise", name="噪声扰民")
    return SimpleNamespace(
        p1=p1, p2=p2,
        litter=CaseCategory.objects.create(slug="t-litter", name="暴露垃圾", parent=p1),
        stall=CaseCategory.objects.create(slug="t-stall", name="乱设摊", parent=p1),
        night=CaseCategory.objects.create(slug="t-night", name="夜间施工噪声", parent=p2),
    )


@pytest.fixture
def stat_cases(tree: Any, grids: Any, stat_categories: SimpleNamespace) -> SimpleNamespace:
    """Five cases in street A, one in street B (see test_stats.py for the hand-computed figures)."""
    c = stat_categories
    day = 24 * 60
    return SimpleNamespace(
        # closed late (closed after 2 days, due after 1), accepted after 30 min, rated 5
        one=stat_case(community=tree.a1, category=c.litter, grid=grids.a1, state=CaseState.CLOSED, created=at(2),
                      accept_after=30, close_after=2 * day, due_after=day, rating=5),
        # closed in time after 1 day, accepted after 10 min, rated 3
        two=stat_case(community=tree.a1, category=c.litter, grid=grids.a1, state=CaseState.CLOSED, created=at(3),
                      accept_after=10, close_after=day, due_after=5 * day, rating=3),
        # in progress and overdue, accepted after 20 min
        three=stat_case(community=tree.a2, category=c.stall, grid=grids.a2, state=CaseState.IN_PROGRESS,
                        created=at(3, 23, 30), accept_after=20, due_after=day, overdue=True),
        # new, no grid, reported 00:30 Shanghai time on 10 Nov (still 9 Nov in UTC)
        four=stat_case(community=tree.a2, category=c.night, grid=None, state=CaseState.NEW, created=at(10, 0, 30)),
        # closed in time after 3 days, accepted after 40 min, rated 4
        five=stat_case(community=tree.a1, category=c.night, grid=grids.a1, state=CaseState.CLOSED, created=at(10),
                       accept_after=40, close_after=3 * day, due_after=5 * day, rating=4),
        # street B: must never be counted for street A
        other=stat_case(community=tree.b1, category=c.litter, grid=grids.b1, state=CaseState.CLOSED, created=at(4),
                        accept_after=1000, close_after=day, due_after=day, rating=1),
    )
