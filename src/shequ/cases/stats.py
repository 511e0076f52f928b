"""Figures of the case loop (工单统计) in the actor's scope.

``case_figures`` answers with a handful of aggregate queries whatever the number of cases:

1. one GROUP BY over (category, grid, state) with conditional counts (overdue, closed late, ratings),
   rolled up in Python into by-state, by-category (leaf and parent), by-grid, overdue rates and
   satisfaction — the number of groups is bounded by categories × grids × states, not by cases;
2. one GROUP BY over the period bucket (day/week/month in the project time zone, Asia/Shanghai);
3. the medians (minutes to accept, minutes to close): on PostgreSQL both from one scan with
   ``percentile_cont(0.5)``; on SQLite, per median, the middle one or two rows of the cases ordered by the
   duration (OFFSET/LIMIT). Both are exact (the mean of the two middle values for an even count).

All of them filter on the scope path range (``scope_path >= P AND scope_path < P;``) and the creation
time, which the ``(scope_path, state, created_at)`` index serves.

The figures cover the cases *reported* in ``[since, until)``. Without ``since`` they cover the last
``DEFAULT_DAYS`` days (a street's figures page is about recent work; pass an early ``since`` for all
time).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import (
    Aggregate,
    CharField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import TruncDate, TruncMonth, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shequ.accounts.roles import Capability
from shequ.cases.choices import OPEN_STATES, CaseState
from shequ.cases.models import Case, CaseCategory
from shequ.core.errors import ValidationFailed
from shequ.core.scope import restrict, subtree_q
from shequ.registry.models import Grid, Place

DEFAULT_DAYS = 90
PERIODS = ("day", "week", "month")
FIGURE_CAPABILITIES = (Capability.CASES_HANDLE, Capability.CASES_DISPATCH, Capability.REGISTRY_VIEW)
RATINGS = (1, 2, 3, 4, 5)
PERIOD_INVALID = _("统计周期须为日、周或月。")


def figures_queryset(*, actor: Any, within: Place | str | None = None) -> QuerySet[Case]:
    """Cases the actor may count: the union of its CASES_HANDLE, CASES_DISPATCH and REGISTRY_VIEW scopes.

    The union is reduced to its outermost paths first, so the query has one range per subtree (a street
    officer's street appears once, not once per capability).
    """
    base = Case.objects.all()
    if not restrict(base, actor).query.is_empty():  # authenticated and active, with at least one role
        paths = {p for capability in FIGURE_CAPABILITIES for p in actor.scope_paths(capability)}
        paths = {p for p in paths if not any(p != q and p.startswith(q) for q in paths)}
    else:
        paths = set()
    if not paths:
        return base.none()
    condition = Q()
    for path in sorted(paths):
        condition |= subtree_q(path)
    scoped = base.filter(condition)
    if within is not None:
        path = within if isinstance(within, str) else within.path
        scoped = scoped.filter(subtree_q(path))
    return scoped


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


# SQLite's own date() with these modifiers, after shifting to local time (Monday starts a week)
SQLITE_BUCKETS = {"day": (), "week": ("weekday 0", "-6 days"), "month": ("start of month",)}


def _fixed_offset_minutes(tz: ZoneInfo) -> int | None:
    """The zone's offset from UTC in minutes if it never changes (China's has not since 1991), else None."""
    year = timezone.now().year
    offsets = {tz.utcoffset(dt.datetime(y, m, 1)) for y in (year - 1, year, year + 1) for m in (1, 7)}
    only = offsets.pop() if len(offsets) == 1 else None
    return int(only.total_seconds() // 60) if only is not None else None


def _bucket(period: str) -> Any:
    tz = ZoneInfo(settings.TIME_ZONE)
    offset = _fixed_offset_minutes(tz) if connection.vendor == "sqlite" else None
    if offset is not None:
        # SQLite's C date functions instead of Django's per-row call back into Python (230 → ~30 ms for a
        # street's 90 days at 1M cases); the same local days, weeks and months.
        modifiers = ", ".join(f"'{m}'" for m in (f"{offset:+d} minutes", *SQLITE_BUCKETS[period]))
        return Func(F("created_at"), template=f"date(%(expressions)s, {modifiers})", output_field=CharField())
    if period == "day":
        return TruncDate("created_at", tzinfo=tz)
    if period == "week":
        return TruncWeek("created_at", tzinfo=tz)
    return TruncMonth("created_at", tzinfo=tz)


def _as_date(value: Any) -> str:
    if isinstance(value, str):  # SQLite's date(): already YYYY-MM-DD
        return value
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value.isoformat() if value is not None else ""


def median_minutes(queryset: QuerySet[Case], *, start: str, end: str, count: int | None = None) -> dict[str, Any]:
    """Exact median of ``end - start`` in minutes over the rows where both are set.

    Fetches only the middle row (odd count) or the two middle rows (even count) of the rows ordered by
    the duration — the mean of the two for an even count. ``count`` (the number of such rows) saves a
    COUNT query when the caller already knows it.
    """
    rows = queryset.filter(**{f"{start}__isnull": False, f"{end}__isnull": False})
    if count is None:
        count = rows.count()
    if not count:
        return {"count": 0, "median": None}
    if connection.vendor == "sqlite":
        duration: Any = SqliteMinutes(F(end), F(start))
    else:
        duration = ExpressionWrapper(F(end) - F(start), output_field=DurationField())
    middle = list(
        rows.annotate(duration=duration).order_by("duration", "id").values_list("duration", flat=True)
        [(count - 1) // 2:(count // 2) + 1]
    )
    minutes = [d if isinstance(d, float) else d.total_seconds() / 60 for d in middle]
    return {"count": count, "median": round(sum(minutes) / len(minutes), 2)}


class SqliteMinutes(Func):
    """Minutes from the second datetime to the first, computed by SQLite itself: Django's duration
    expression calls back into Python for every row (200 ms for a street's 90 days at 1M cases)."""

    template = "((julianday(%(expressions)s)) * 1440.0)"
    arg_joiner = ") - julianday("
    output_field = FloatField()


class MedianDuration(Aggregate):
    """PostgreSQL's exact median of an interval: ``percentile_cont(0.5)`` is the middle value, or the mean of the
    two middle values for an even count — the same number ``median_minutes`` computes. Nulls are skipped."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


def duration_medians(queryset: QuerySet[Case], *, accepted: int, closed: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Median minutes to accept and to close. On PostgreSQL both come from one scan of the cases; elsewhere
    from ``median_minutes`` (which reads only the middle rows)."""
    if connection.vendor != "postgresql":
        return (median_minutes(queryset, start="created_at", end="accepted_at", count=accepted),
                median_minutes(queryset, start="created_at", end="closed_at", count=closed))
    row = queryset.order_by().aggregate(accept=MedianDuration(F("accepted_at") - F("created_at")),
                                        close=MedianDuration(F("closed_at") - F("created_at")))

    def minutes(count: int, value: dt.timedelta | None) -> dict[str, Any]:
        if not count or value is None:
            return {"count": 0, "median": None}
        return {"count": count, "median": round(value.total_seconds() / 60, 2)}

    return minutes(accepted, row["accept"]), minutes(closed, row["close"])


def case_figures(
    *,
    actor: Any,
    within: Place | str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    period: str = "day",
) -> dict[str, Any]:
    """The figures of the cases reported in ``[since, until)`` in the actor's scope (optionally ``within`` a node)."""
    if period not in PERIODS:
        raise ValidationFailed({"period": str(PERIOD_INVALID)})
    cases = figures_queryset(actor=actor, within=within)
    if until is not None:
        cases = cases.filter(created_at__lt=until)
    else:
        until = timezone.now()  # no upper bound in the query: nothing is reported in the future (a simpler plan)
    since = since or until - dt.timedelta(days=DEFAULT_DAYS)
    cases = cases.filter(created_at__gte=since)

    closed = Q(state=CaseState.CLOSED)
    groups = list(
        cases.order_by().values("category_id", "grid_id", "state").annotate(
            n=Count("id"),
            overdue_n=Count("id", filter=Q(overdue=True)),
            late_n=Count("id", filter=closed & Q(closed_at__gt=F("resolve_due_at"))),
            rated_n=Count("rating"),
            accepted_n=Count("accepted_at"),
            closed_at_n=Count("closed_at"),
            rating_sum=Sum("rating"),
            **{f"r{k}": Count("id", filter=Q(rating=k)) for k in RATINGS},
        )
    )

    total = 0
    by_state: dict[str, int] = defaultdict(int)
    by_category: dict[int, int] = defaultdict(int)
    by_grid: dict[int | None, int] = defaultdict(int)
    open_n = open_overdue = closed_n = closed_late = rated = rating_sum = accepted_n = closed_at_n = 0
    distribution = dict.fromkeys(RATINGS, 0)
    for g in groups:
        n = g["n"]
        total += n
        by_state[g["state"]] += n
        by_category[g["category_id"]] += n
        by_grid[g["grid_id"]] += n
        if g["state"] in OPEN_STATES:
            open_n += n
            open_overdue += g["overdue_n"]
        if g["state"] == CaseState.CLOSED:
            closed_n += n
            closed_late += g["late_n"]
        rated += g["rated_n"]
        accepted_n += g["accepted_n"]
        closed_at_n += g["closed_at_n"]
        rating_sum += g["rating_sum"] or 0
        for k in RATINGS:
            distribution[k] += g[f"r{k}"]

    categories = {c.pk: c for c in CaseCategory.objects.filter(pk__in=by_category).select_related("parent")}
    by_parent: dict[int, int] = defaultdict(int)
    for pk, n in by_category.items():
        category = categories[pk]
        by_parent[category.parent_id or category.pk] += n
    parents = {c.pk: c for c in CaseCategory.objects.filter(pk__in=by_parent)}
    grids = {g.pk: g for g in Grid.objects.filter(pk__in=[k for k in by_grid if k is not None])}

    accept_minutes, close_minutes = duration_medians(cases, accepted=accepted_n, closed=closed_at_n)
    buckets = (
        cases.order_by().annotate(bucket=_bucket(period)).values("bucket").annotate(n=Count("id")).order_by("bucket")
    )

    labels = dict(CaseState.choices)
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "period": period,
        "total": total,
        "by_state": [
            {"state": state, "label": str(labels[state]), "count": by_state[state]}
            for state in CaseState.values if by_state.get(state)
        ],
        "by_category": sorted(
            ({"id": pk, "slug": categories[pk].slug, "name": categories[pk].name,
              "parent": categories[pk].parent.name if categories[pk].parent else "", "count": n}
             for pk, n in by_category.items()),
            key=lambda row: (-row["count"], row["slug"]),
        ),
        "by_parent_category": sorted(
            ({"id": pk, "slug": parents[pk].slug, "name": parents[pk].name, "count": n} for pk, n in by_parent.items()),
            key=lambda row: (-row["count"], row["slug"]),
        ),
        "by_grid": sorted(
            ({"id": pk, "name": grids[pk].name if pk is not None else "", "count": n} for pk, n in by_grid.items()),
            key=lambda row: (-row["count"], row["name"]),
        ),
        "by_period": [{"start": _as_date(row["bucket"]), "count": row["n"]} for row in buckets],
        "overdue": {
            "open": open_n,
            "open_overdue": open_overdue,
            "rate": _ratio(open_overdue, open_n),
            "closed": closed_n,
            "closed_late": closed_late,
            "late_rate": _ratio(closed_late, closed_n),
        },
        "accept_minutes": accept_minutes,
        "close_minutes": close_minutes,
        "satisfaction": {
            "rated": rated,
            "mean": round(rating_sum / rated, 2) if rated else None,
            "distribution": [{"rating": k, "count": distribution[k]} for k in RATINGS],
            "share_4_plus": _ratio(distribution[4] + distribution[5], rated),
        },
    }
