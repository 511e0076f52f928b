"""Every read of the case loop, scoped.

Who sees a case: staff holding ``CASES_HANDLE`` or ``CASES_DISPATCH`` over its place (community staff,
street officers, the district admin), its reporter and followers, and the handlers of a department it
was dispatched to. Everyone else — including staff of another community — gets ``NotFound``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from shequ.accounts.roles import Capability
from shequ.cases.choices import OPEN_STATES, CaseState, DispatchState
from shequ.cases.models import Case, CaseCategory, CaseEvent, CaseFollower, Dispatch
from shequ.core.errors import NotFound
from shequ.core.scope import subtree_q
from shequ.registry.models import Grid, Place


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def _authenticated(actor: Any) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False) and getattr(actor, "is_active", False)


def staff_paths(actor: Any) -> tuple[str, ...]:
    """Where the actor handles or dispatches cases."""
    if not _authenticated(actor):
        return ()
    paths = set(actor.scope_paths(Capability.CASES_HANDLE)) | set(actor.scope_paths(Capability.CASES_DISPATCH))
    return tuple(sorted(p for p in paths if not any(p != q and p.startswith(q) for q in paths)))


def visible_q(actor: Any) -> Q | None:
    """The condition for the cases ``actor`` may see; ``None`` when they see none."""
    if not _authenticated(actor):
        return None
    condition = Q(pk__in=[])
    for path in staff_paths(actor):
        condition |= subtree_q(path)
    condition |= Q(reporter=actor) | Q(pk__in=CaseFollower.objects.filter(user=actor).values("case_id"))
    if actor.department_id is not None:
        condition |= Q(pk__in=Dispatch.objects.filter(department_id=actor.department_id).values("case_id"))
    return condition


def visible_cases(actor: Any) -> QuerySet[Case]:
    condition = visible_q(actor)
    if condition is None:
        return Case.objects.none()
    return Case.objects.filter(condition)


@dataclass
class CaseFilter:
    state: str | list[str] | None = None
    category: CaseCategory | int | None = None
    grid: Grid | int | None = None
    within: Place | None = None
    source: str | None = None
    overdue: bool | None = None
    since: dt.datetime | dt.date | None = None
    until: dt.datetime | dt.date | None = None
    q: str = ""


def _as_start(value: dt.datetime | dt.date) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return timezone.make_aware(dt.datetime.combine(value, dt.time()))


def apply_filter(qs: QuerySet[Case], filters: CaseFilter | None) -> QuerySet[Case]:
    if filters is None:
        return qs
    if filters.state:
        states = [filters.state] if isinstance(filters.state, str) else list(filters.state)
        if states == ["open"]:
            states = list(OPEN_STATES)
        qs = qs.filter(state__in=states)
    if filters.category:
        category = filters.category
        pk = category.pk if isinstance(category, CaseCategory) else category
        qs = qs.filter(Q(category_id=pk) | Q(category__parent_id=pk))
    if filters.grid:
        qs = qs.filter(grid_id=filters.grid.pk if isinstance(filters.grid, Grid) else filters.grid)
    if filters.within is not None:
        qs = qs.filter(subtree_q(filters.within.path))
    if filters.source:
        qs = qs.filter(source=filters.source)
    if filters.overdue is not None:
        qs = qs.filter(overdue=filters.overdue)
    if filters.since:
        qs = qs.filter(created_at__gte=_as_start(filters.since))
    if filters.until:
        until = filters.until
        end = until if isinstance(until, dt.datetime) else _as_start(until + dt.timedelta(days=1))
        qs = qs.filter(created_at__lt=end)
    text = (filters.q or "").strip()
    if text:
        qs = qs.filter(Q(number__icontains=text) | Q(title__icontains=text) | Q(address__icontains=text))
    return qs


def _listing(qs: QuerySet[Case]) -> QuerySet[Case]:
    return qs.select_related("category", "community", "grid", "assignee")


def case_list(*, actor: Any, filters: CaseFilter | None = None) -> QuerySet[Case]:
    """The cases the actor may see, filtered, newest first."""
    return _listing(apply_filter(visible_cases(actor), filters)).order_by("-created_at", "-id")


def case_get(*, actor: Any, case_id: int | str) -> Case:
    """One case the actor may see; missing and out of scope both raise ``NotFound``."""
    try:
        return _listing(visible_cases(actor)).get(pk=int(case_id))
    except (Case.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound() from exc


def case_get_by_number(*, actor: Any, number: str) -> Case:
    try:
        return _listing(visible_cases(actor)).get(number=number)
    except Case.DoesNotExist as exc:
        raise NotFound() from exc


def case_timeline(*, case: Case) -> QuerySet[CaseEvent]:
    """Every step of the case, oldest first (the case was loaded through a scoped selector)."""
    return CaseEvent.objects.filter(case=case).select_related("actor").order_by("at", "id")


def case_dispatches(*, case: Case) -> QuerySet[Dispatch]:
    return Dispatch.objects.filter(case=case).select_related("department", "checked_in_by").order_by("id")


def community_inbox(*, actor: Any) -> QuerySet[Case]:
    """New cases waiting to be accepted and cases in hand, where the actor handles cases; the most
    urgent first (overdue, then near due, then by deadline)."""
    paths = actor.scope_paths(Capability.CASES_HANDLE) if _authenticated(actor) else ()
    if not paths:
        return Case.objects.none()
    condition = Q(pk__in=[])
    for path in paths:
        condition |= subtree_q(path)
    states = [CaseState.NEW, CaseState.ACCEPTED, CaseState.IN_PROGRESS, CaseState.RESOLVED]
    return _listing(Case.objects.filter(condition, state__in=states)).order_by(
        "-overdue", "-near_due", "accept_due_at", "id")


STREET_CODE_LENGTH = 9


def street_overdue(*, actor: Any) -> QuerySet[Case]:
    """Escalated cases, cases in dispatch, and every open overdue or near-due case where the actor
    dispatches (the street's worklist)."""
    paths = actor.scope_paths(Capability.CASES_DISPATCH) if _authenticated(actor) else ()
    if not paths:
        return Case.objects.none()
    if all(len(path) == STREET_CODE_LENGTH for path in paths):
        # a street's whole subtree is its street key: the worklist index then serves the order too
        condition = Q(street_code__in=sorted(paths))
    else:
        condition = Q(pk__in=[])
        for path in paths:
            condition |= subtree_q(path)
    wanted = (Q(state__in=[CaseState.ESCALATED, CaseState.DISPATCHED])
              | Q(state__in=sorted(OPEN_STATES), overdue=True) | Q(state__in=sorted(OPEN_STATES), near_due=True))
    return _listing(Case.objects.filter(condition, state__in=sorted(OPEN_STATES)).filter(wanted)).order_by(
        "-overdue", "-near_due", "resolve_due_at", "id")


def department_dispatches(*, actor: Any, state: str | list[str] | None = None) -> QuerySet[Dispatch]:
    """The dispatches to the actor's department (default: those still to act on)."""
    if not _authenticated(actor) or actor.department_id is None:
        return Dispatch.objects.none()
    qs = Dispatch.objects.filter(department_id=actor.department_id)
    if state is None:
        qs = qs.filter(state__in=[DispatchState.PENDING, DispatchState.CHECKED_IN], case__state=CaseState.DISPATCHED)
    else:
        qs = qs.filter(state__in=[state] if isinstance(state, str) else list(state))
    return qs.select_related("case", "case__category", "department").order_by("-overdue", "due_at", "id")


def dispatch_get(*, actor: Any, dispatch_id: int | str) -> Dispatch:
    """A dispatch the actor may act on or see: their department's, or one of a case they see."""
    try:
        pk = int(dispatch_id)
    except (TypeError, ValueError) as exc:
        raise NotFound() from exc
    condition = visible_q(actor)
    if condition is None:
        raise NotFound()
    dept_q = Q(department_id=actor.department_id) if actor.department_id else Q(pk__in=[])
    dispatch = (Dispatch.objects.select_related("case", "department")
                .filter(Q(pk=pk) & (dept_q | Q(case__in=Case.objects.filter(condition)))).first())
    if dispatch is None:
        raise NotFound()
    return dispatch


DUPLICATE_METRES = 150
DUPLICATE_DAYS = 7
DUPLICATE_LIMIT = 10


def possible_duplicates(*, category: CaseCategory, lon: float | None, lat: float | None, community: Place | None,
                        exclude: Case | None = None, place: Place | None = None,
                        now: dt.datetime | None = None, limit: int = DUPLICATE_LIMIT,
                        fields: tuple[str, ...] = ()) -> list[Case]:
    """Open cases of the same category in the same community, reported in the last 7 days within
    150 m (or, without coordinates, at the same place) — the ``limit`` nearest first. Unscoped: callers
    show them to staff of that community, or only their numbers to residents; ``fields`` loads only
    those (``("number",)`` for a timeline entry).

    Distances are ranked on (id, lon, lat) alone; only the cases returned are loaded whole (a busy
    spot has hundreds of open reports, and every report asks)."""
    if community is None:
        return []
    now = now or timezone.now()
    qs = Case.objects.filter(category=category, community=community, state__in=list(OPEN_STATES),
                             created_at__gte=now - dt.timedelta(days=DUPLICATE_DAYS))
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    if fields:
        qs = qs.only(*fields)
    if lon is None or lat is None:
        return list(qs.filter(place=place).order_by("-created_at")[:limit]) if place is not None else []
    dlat = DUPLICATE_METRES / 111_000 * 1.2
    dlon = dlat / max(math.cos(math.radians(lat)), 0.1)
    near = qs.filter(lon__gte=lon - dlon, lon__lte=lon + dlon, lat__gte=lat - dlat, lat__lte=lat + dlat)
    ranked = sorted((distance_m(lon, lat, x, y), pk) for pk, x, y in near.values_list("pk", "lon", "lat")[:500])
    ids = [pk for d, pk in ranked if d <= DUPLICATE_METRES][:limit]
    cases = qs.in_bulk(ids)
    return [cases[pk] for pk in ids if pk in cases]


def my_cases(*, actor: Any) -> QuerySet[Case]:
    """The cases the actor reported or follows, newest first."""
    if not _authenticated(actor):
        return Case.objects.none()
    return _listing(Case.objects.filter(
        Q(reporter=actor) | Q(pk__in=CaseFollower.objects.filter(user=actor).values("case_id"))
    )).order_by("-created_at", "-id")


def assigned_to_me(*, actor: Any) -> QuerySet[Case]:
    """Open cases assigned to the actor (a grid worker's task list)."""
    if not _authenticated(actor):
        return Case.objects.none()
    return _listing(Case.objects.filter(assignee=actor, state__in=list(OPEN_STATES))).order_by(
        "-overdue", "resolve_due_at", "id")


def categories(*, leaves_only: bool = False) -> QuerySet[CaseCategory]:
    qs = CaseCategory.objects.filter(active=True).select_related("parent")
    if leaves_only:
        qs = qs.filter(children__isnull=True)
    return qs.order_by("sort", "slug")
