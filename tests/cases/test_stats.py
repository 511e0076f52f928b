"""Figures of the case loop: hand-computed numbers, exact medians (odd and even counts), scope."""

from __future__ import annotations

import pytest

from shequ.cases.choices import CaseState
from shequ.cases.stats import PERIOD_INVALID, case_figures
from shequ.core.errors import ValidationFailed
from tests.cases.fixtures_stats import *  # noqa: F403  (fixtures: stat_categories, stat_cases)
from tests.cases.fixtures_stats import at, stat_case

pytestmark = pytest.mark.django_db

SINCE, UNTIL = at(1, 0, 0), at(20, 0, 0)


def figures(actor, **kwargs):
    return case_figures(actor=actor, since=SINCE, until=UNTIL, **kwargs)


def counts(rows, key):
    return {row[key]: row["count"] for row in rows}


def test_street_counts_by_state_category_and_grid_exclude_other_streets(actors, grids, stat_cases):
    # given five cases in street A and one in street B
    # when the street A officer asks for the figures
    result = figures(actors.officer_a)
    # then only street A's five are counted
    assert result["total"] == 5
    assert counts(result["by_state"], "state") == {"new": 1, "in_progress": 1, "closed": 3}
    assert counts(result["by_category"], "slug") == {"t-litter": 2, "t-stall": 1, "t-night": 2}
    assert counts(result["by_parent_category"], "slug") == {"t-city": 3, "t-noise": 2}
    assert counts(result["by_grid"], "id") == {grids.a1.pk: 3, grids.a2.pk: 1, None: 1}


def test_overdue_rates(actors, stat_cases):
    # given two open cases (one overdue) and three closed cases (one closed after its deadline)
    result = figures(actors.officer_a)
    # then the overdue rate is 1/2 and the closed-late rate 1/3
    assert result["overdue"] == {"open": 2, "open_overdue": 1, "rate": 0.5,
                                 "closed": 3, "closed_late": 1, "late_rate": 0.3333}


def test_medians_even_count_is_the_mean_of_the_two_middle_values(actors, stat_cases):
    # given accept times 30, 10, 20, 40 minutes (four accepted cases) and close times of 2, 1 and 3 days
    result = figures(actors.officer_a)
    # then the median time to accept is (20 + 30) / 2 and to close the middle one, 2 days
    assert result["accept_minutes"] == {"count": 4, "median": 25.0}
    assert result["close_minutes"] == {"count": 3, "median": 2880.0}


def test_medians_odd_count_and_community_scope(actors, stat_cases):
    # when the A1 community worker asks: cases one, two and five (accepted after 30, 10 and 40 minutes)
    result = figures(actors.worker_a1)
    # then the median is the middle value
    assert result["total"] == 3
    assert result["accept_minutes"] == {"count": 3, "median": 30.0}
    assert result["close_minutes"] == {"count": 3, "median": 2880.0}


def test_satisfaction(actors, stat_cases):
    # given ratings 5, 3 and 4 in street A (and a 1 in street B)
    result = figures(actors.officer_a)["satisfaction"]
    # then the mean is 4, two of three are 4 or better
    assert result["rated"] == 3
    assert result["mean"] == 4.0
    assert [row["count"] for row in result["distribution"]] == [0, 0, 1, 1, 1]
    assert result["share_4_plus"] == 0.6667


def test_period_buckets_use_shanghai_time(actors, stat_cases):
    # given case four reported at 00:30 on 10 Nov Shanghai time (16:30 on 9 Nov UTC)
    by_day = figures(actors.officer_a, period="day")["by_period"]
    by_week = figures(actors.officer_a, period="week")["by_period"]
    by_month = figures(actors.officer_a, period="month")["by_period"]
    # then it falls on 10 Nov, in the week starting Monday 9 Nov
    assert by_day == [{"start": "2026-11-02", "count": 1}, {"start": "2026-11-03", "count": 2},
                      {"start": "2026-11-10", "count": 2}]
    assert by_week == [{"start": "2026-11-02", "count": 3}, {"start": "2026-11-09", "count": 2}]
    assert by_month == [{"start": "2026-11-01", "count": 5}]


def test_within_narrows_to_a_community_and_the_admin_sees_both_streets(actors, tree, stat_cases):
    assert figures(actors.officer_a, within=tree.a2)["total"] == 2
    # a node outside the actor's scope yields nothing, not the other street's cases
    assert figures(actors.officer_a, within=tree.b1)["total"] == 0
    assert figures(actors.admin)["total"] == 6


def test_since_until_window(actors, stat_cases):
    # when the window is 3 Nov 00:00 to 10 Nov 00:00 Shanghai time
    result = case_figures(actor=actors.officer_a, since=at(3, 0, 0), until=at(10, 0, 0))
    # then cases two and three only
    assert result["total"] == 2
    assert result["accept_minutes"] == {"count": 2, "median": 15.0}


def test_residents_and_anonymous_see_no_figures(actors, stat_cases):
    from django.contrib.auth.models import AnonymousUser

    assert figures(actors.resident_a1)["total"] == 0
    assert figures(AnonymousUser())["total"] == 0
    assert figures(actors.resident_a1)["accept_minutes"] == {"count": 0, "median": None}


def test_empty_scope_has_no_rates(actors, stat_categories):
    result = figures(actors.officer_a)
    assert result["total"] == 0
    assert result["overdue"]["rate"] is None
    assert result["satisfaction"]["mean"] is None


def test_unknown_period_is_refused(actors):
    with pytest.raises(ValidationFailed) as exc:
        figures(actors.officer_a, period="year")
    assert exc.value.errors == {"period": [str(PERIOD_INVALID)]}


def test_weeks_start_on_monday_local_time_either_side_of_sunday_midnight(actors, tree, grids, stat_categories):
    # given cases at 23:30 on Sunday 15 Nov and 00:10 on Monday 16 Nov (Shanghai), and one on Saturday the 14th
    for created in (at(15, 23, 30), at(16, 0, 10), at(14, 12, 0)):
        stat_case(community=tree.a1, category=stat_categories.litter, grid=grids.a1, state=CaseState.NEW,
                  created=created)
    # when the figures are grouped by week and by day
    by_week = figures(actors.officer_a, period="week")["by_period"]
    by_day = figures(actors.officer_a, period="day")["by_period"]
    # then Saturday and Sunday fall in the week of Monday 9 Nov, Monday's case opens the next week
    assert by_week == [{"start": "2026-11-09", "count": 2}, {"start": "2026-11-16", "count": 1}]
    assert [row["start"] for row in by_day] == ["2026-11-14", "2026-11-15", "2026-11-16"]
