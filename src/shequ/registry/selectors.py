"""Every read of the registry, scoped to the actor before any filter is applied."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Q, QuerySet

from shequ.accounts.roles import Capability
from shequ.core import pii
from shequ.core.errors import NotFound
from shequ.core.scope import get_in_scope, restrict, subtree_q
from shequ.registry import geo
from shequ.registry.choices import AGE_BAND_BOUNDS, PlaceKind
from shequ.registry.models import (
    CareTag,
    Facility,
    Grid,
    Household,
    Organisation,
    Person,
    PersonFact,
    PersonTag,
    Place,
)

VIEW = Capability.REGISTRY_VIEW


# --- Places ---------------------------------------------------------------------------------------


def place_list(
    *, actor: Any, kind: str | None = None, parent: Place | None = None, q: str = "", within: Place | None = None
) -> QuerySet[Place]:
    qs = restrict(Place.objects.all(), actor, capability=VIEW)
    if kind:
        qs = qs.filter(kind=kind)
    if parent is not None:
        qs = qs.filter(parent=parent)
    if within is not None:
        qs = qs.filter(subtree_q(within.path))
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(path__startswith=q))
    return qs.order_by("path")


def place_get(*, actor: Any, place_id: Any) -> Place:
    return get_in_scope(Place.objects.select_related("parent"), actor, capability=VIEW, pk=place_id)


def place_roots(*, actor: Any) -> list[Place]:
    """The nodes at the top of what the actor sees: where their memberships are."""
    paths = actor.scope_paths(VIEW) if actor is not None and actor.is_authenticated else ()
    return list(Place.objects.filter(path__in=paths).order_by("path"))


def place_ancestors(place: Place) -> list[Place]:
    """The chain from the district down to ``place`` (breadcrumbs); one query."""
    from shequ.registry.choices import PLACE_PATH_LENGTHS

    prefixes = [place.path[:n] for n in PLACE_PATH_LENGTHS.values() if n < len(place.path)]
    return list(Place.objects.filter(path__in=prefixes).order_by("path"))


def place_children(*, actor: Any, place: Place) -> QuerySet[Place]:
    return restrict(Place.objects.filter(parent=place), actor, capability=VIEW).order_by("path")


def place_summary(*, actor: Any, place: Place) -> dict[str, int]:
    """Counts under a node: children by kind, households and people (active)."""
    people = restrict(Person.objects.filter(subtree_q(place.path)), actor, capability=VIEW)
    households = restrict(Household.objects.filter(subtree_q(place.path)), actor, capability=VIEW)
    return {
        "people": people.filter(status="active").count(),
        "households": households.count(),
        "grids": restrict(Grid.objects.filter(subtree_q(place.path)), actor, capability=VIEW).count(),
        "organisations": restrict(Organisation.objects.filter(subtree_q(place.path)), actor, capability=VIEW).count(),
    }


def place_map_features(*, actor: Any, place: Place) -> dict[str, Any]:
    """GeoJSON of the node itself, its child areas and the grids inside it, for the map."""
    features: list[dict[str, Any]] = []
    if place.geometry:
        features.append(_feature(place.geometry, role="self", name=place.name, id=place.pk, kind=place.kind))
    for child in place_children(actor=actor, place=place).exclude(geometry=None).only("id", "name", "kind", "geometry"):
        features.append(_feature(child.geometry, role="child", name=child.name, id=child.pk, kind=child.kind))
    if place.kind in {PlaceKind.STREET, PlaceKind.COMMUNITY, PlaceKind.DISTRICT}:
        grids = restrict(Grid.objects.filter(subtree_q(place.path)), actor, capability=VIEW)
        if place.kind == PlaceKind.DISTRICT:
            grids = grids.none()  # a whole district's grids are too many to draw; drill down first
        for grid in grids.only("id", "name", "code", "geometry"):
            features.append(_feature(grid.geometry, role="grid", name=grid.name, id=grid.pk, kind="grid"))
    return {"type": "FeatureCollection", "features": features}


def _feature(geometry: Any, **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


# --- Grids ----------------------------------------------------------------------------------------


def grid_list(*, actor: Any, community: Place | None = None, within: Place | None = None) -> QuerySet[Grid]:
    qs = restrict(Grid.objects.select_related("community"), actor, capability=VIEW)
    if community is not None:
        qs = qs.filter(community=community)
    if within is not None:
        qs = qs.filter(subtree_q(within.path))
    return qs.order_by("code")


def grid_get(*, actor: Any, grid_id: Any) -> Grid:
    return get_in_scope(
        Grid.objects.select_related("community").prefetch_related("members"), actor, capability=VIEW, pk=grid_id
    )


def grid_locate(*, lon: float, lat: float, within: Place | None = None) -> Grid | None:
    """The grid that a point falls in (unscoped: used by services to route, not to show).

    The grids' shapes are parsed once per process into a spatial index and rebuilt only when a grid
    under ``within`` was added, changed or removed (one aggregate query tells).
    """
    qs = Grid.objects.all()
    if within is not None:
        qs = qs.filter(subtree_q(within.path))
    stamp = tuple(qs.aggregate(n=Count("id"), last=Max("updated_at")).values())
    key = within.path if within is not None else ""
    cached = _GRID_INDEXES.get(key)
    if cached is None or cached[0] != stamp:
        if len(_GRID_INDEXES) >= _GRID_INDEX_LIMIT:
            _GRID_INDEXES.clear()
        index = geo.GridIndex([(g.pk, g.geometry) for g in qs.only("id", "geometry").order_by("code")])
        _GRID_INDEXES[key] = (stamp, index)
    else:
        index = cached[1]
    pk = index.locate(lon, lat)
    # with its community (callers route by it) and without the shape it was just found by
    return Grid.objects.select_related("community").defer("geometry").get(pk=pk) if pk else None


_GRID_INDEXES: dict[str, tuple[tuple[Any, ...], geo.GridIndex]] = {}
_GRID_INDEX_LIMIT = 512


# --- Facilities -----------------------------------------------------------------------------------


def facility_list(*, actor: Any, within: Place | None = None, kind: str | None = None) -> QuerySet[Facility]:
    qs = restrict(Facility.objects.select_related("place"), actor, capability=VIEW)
    if within is not None:
        qs = qs.filter(subtree_q(within.path))
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("scope_path", "name")


def facility_get(*, actor: Any, facility_id: Any) -> Facility:
    return get_in_scope(Facility.objects.select_related("place"), actor, capability=VIEW, pk=facility_id)


# --- Care tags ------------------------------------------------------------------------------------


def caretag_list(*, include_inactive: bool = False) -> list[CareTag]:
    qs = CareTag.objects.all()
    if not include_inactive:
        qs = qs.filter(active=True)
    return list(qs.order_by("sort", "slug"))


def caretag_by_digest() -> dict[str, CareTag]:
    return {tag.digest: tag for tag in CareTag.objects.all()}


def person_tags(person: Person, *, vocabulary: dict[str, CareTag] | None = None) -> list[CareTag]:
    vocabulary = vocabulary if vocabulary is not None else caretag_by_digest()
    digests = [t.tag_digest for t in person.tags.all()]
    return sorted((vocabulary[d] for d in digests if d in vocabulary), key=lambda t: (t.sort, t.slug))


# --- Households -----------------------------------------------------------------------------------


def household_list(*, actor: Any, within: Place | None = None) -> QuerySet[Household]:
    qs = restrict(Household.objects.select_related("unit", "head"), actor, capability=VIEW)
    if within is not None:
        qs = qs.filter(subtree_q(within.path))
    return qs.annotate(member_count=Count("members")).order_by("scope_path", "id")


def household_get(*, actor: Any, household_id: Any) -> Household:
    return get_in_scope(Household.objects.select_related("unit", "head"), actor, capability=VIEW, pk=household_id)


def household_members(household: Household) -> list[Person]:
    return list(household.members.order_by("relation", "birth_date").prefetch_related("tags"))


# --- People ---------------------------------------------------------------------------------------


@dataclass
class PersonFilter:
    """One filter definition for the people list page, the API and exports."""

    q: str = ""
    tag: str = ""
    age_band: str = ""
    within: Place | None = None
    residence_type: str = ""
    status: str = "active"
    sex: str = ""
    id_number: str = ""
    phone: str = ""


def years_ago(n: int, today: dt.date) -> dt.date:
    """The same day ``n`` years before ``today`` (28 February for a 29 February): born on or before it, aged ≥ n."""
    try:
        return today.replace(year=today.year - n)
    except ValueError:  # 29 February
        return today.replace(year=today.year - n, day=28)


def birth_date_range(age_band: str, *, today: dt.date | None = None) -> tuple[dt.date | None, dt.date | None]:
    """Birth dates (inclusive) of people whose age today is within the band."""
    low, high = AGE_BAND_BOUNDS[age_band]
    today = today or dt.date.today()
    latest = years_ago(low, today)  # born on or before this date: at least ``low`` years old
    earliest = None if high is None else years_ago(high + 1, today) + dt.timedelta(days=1)
    return earliest, latest


def person_list(*, actor: Any, filters: PersonFilter | None = None) -> QuerySet[Person]:
    f = filters or PersonFilter()
    qs = restrict(Person.objects.select_related("place", "household"), actor, capability=VIEW)
    if f.within is not None:
        qs = qs.filter(subtree_q(f.within.path))
    if f.status:
        qs = qs.filter(status=f.status)
    if f.residence_type:
        qs = qs.filter(residence_type=f.residence_type)
    if f.sex:
        qs = qs.filter(sex=f.sex)
    if f.age_band:
        earliest, latest = birth_date_range(f.age_band)
        qs = qs.filter(birth_date__lte=latest)
        if earliest:
            qs = qs.filter(birth_date__gte=earliest)
    if f.tag:
        qs = qs.filter(tags__tag_digest=pii.blind_index(f.tag, purpose="tag"))
    if f.q:
        qs = qs.filter(name__contains=f.q.strip())
    if f.id_number:
        qs = qs.filter(id_number_digest=pii.blind_index(pii.normalise_id_number(f.id_number), purpose="id"))
    if f.phone:
        try:
            phone = pii.normalise_phone(f.phone)
        except pii.PiiError:
            return qs.none()
        qs = qs.filter(phone_digest=pii.blind_index(phone, purpose="phone"))
    return qs.order_by("scope_path", "id")


def person_get(*, actor: Any, person_id: Any) -> Person:
    return get_in_scope(
        Person.objects.select_related("place", "household", "household__unit"), actor, capability=VIEW, pk=person_id
    )


def person_facts(person: Person) -> list[PersonFact]:
    return list(person.facts.order_by("field", "-supplied_at"))


ADDRESS_KINDS = (PlaceKind.STREET, PlaceKind.COMMUNITY, PlaceKind.COMPOUND, PlaceKind.BUILDING)


def place_addresses(places: Iterable[Place]) -> dict[int, str]:
    """Addresses down to the building (never the room, QUALITY §5) of many places, in one query.

    Every ancestor is a prefix of the place's path, so the ancestors of a whole page of rows load
    together by path.
    """
    from shequ.registry.choices import PLACE_PATH_LENGTHS

    places = list(places)
    lengths = [PLACE_PATH_LENGTHS[k] for k in ADDRESS_KINDS]
    prefixes = {pl.path[:n] for pl in places for n in lengths if n <= len(pl.path)}
    names = dict(Place.objects.filter(path__in=prefixes).values_list("path", "name")) if prefixes else {}
    return {pl.pk: "".join(names.get(pl.path[:n], "") for n in lengths if n <= len(pl.path)) for pl in places}


def person_address(person: Person) -> str:
    """Address down to the building, never the room (QUALITY §5)."""
    return place_addresses([person.place])[person.place.pk]


def person_tag_counts(*, actor: Any, within: Place | None = None) -> dict[str, int]:
    qs = restrict(PersonTag.objects.filter(person__status="active"), actor, capability=VIEW, field="person__scope_path")
    if within is not None:
        qs = qs.filter(subtree_q(within.path, field="person__scope_path"))
    vocabulary = caretag_by_digest()
    return {
        vocabulary[row["tag_digest"]].slug: row["n"]
        for row in qs.values("tag_digest").annotate(n=Count("id"))
        if row["tag_digest"] in vocabulary
    }


# --- Organisations --------------------------------------------------------------------------------


def organisation_list(
    *, actor: Any, within: Place | None = None, kind: str = "", q: str = ""
) -> QuerySet[Organisation]:
    qs = restrict(Organisation.objects.select_related("place"), actor, capability=VIEW)
    if within is not None:
        qs = qs.filter(subtree_q(within.path))
    if kind:
        qs = qs.filter(kind=kind)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(registration_number=q.upper()))
    return qs.order_by("scope_path", "name")


def organisation_get(*, actor: Any, organisation_id: Any) -> Organisation:
    return get_in_scope(Organisation.objects.select_related("place"), actor, capability=VIEW, pk=organisation_id)


__all__ = ["NotFound"]
