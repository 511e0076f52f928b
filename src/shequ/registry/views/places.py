"""Place-tree browser (区域): from the user's own nodes down to units, households and people."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.db.models.functions import Substr
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from shequ.accounts.roles import Capability
from shequ.core.scope import actor_can_at, restrict, subtree_q
from shequ.registry import selectors
from shequ.registry.choices import PLACE_CHILD_KIND, PLACE_PATH_LENGTHS, PlaceKind
from shequ.registry.models import Household, Person, Place
from shequ.web.http import domain_errors

# Kinds whose page links to the people list filtered to the node ("该区域人员").
PEOPLE_LINK_KINDS = frozenset({PlaceKind.DISTRICT, PlaceKind.STREET, PlaceKind.COMMUNITY, PlaceKind.COMPOUND,
                               PlaceKind.BUILDING})
# How the children of a node are named: a heading and a count with the right measure word.
CHILD_HEADINGS = {PlaceKind.STREET: gettext_lazy("下辖街镇"), PlaceKind.COMMUNITY: gettext_lazy("下辖居村"),
                  PlaceKind.COMPOUND: gettext_lazy("小区"), PlaceKind.BUILDING: gettext_lazy("楼栋"),
                  PlaceKind.UNIT: gettext_lazy("房屋")}
CHILD_COUNTS = {PlaceKind.STREET: gettext_lazy("%(n)s个街镇"), PlaceKind.COMMUNITY: gettext_lazy("%(n)s个居村"),
                PlaceKind.COMPOUND: gettext_lazy("%(n)s个小区"), PlaceKind.BUILDING: gettext_lazy("%(n)s栋楼"),
                PlaceKind.UNIT: gettext_lazy("%(n)s套房屋")}
MAP_KINDS = frozenset({PlaceKind.DISTRICT, PlaceKind.STREET, PlaceKind.COMMUNITY, PlaceKind.COMPOUND})


@login_required
@require_GET
def place_tree(request: HttpRequest) -> HttpResponse:
    roots = selectors.place_roots(actor=request.user)
    if len(roots) == 1:
        return redirect("registry:place_detail", pk=roots[0].pk)
    return render(request, "registry/place_tree.html", {"roots": roots})


def _counts_by_child(qs: Any, place: Place, width: int) -> dict[str, int]:
    """Count rows of ``qs`` under each child of ``place`` in one grouped query."""
    rows = (qs.filter(subtree_q(place.path)).annotate(prefix=Substr("scope_path", 1, width))
            .values("prefix").annotate(n=Count("id")).order_by())
    return {row["prefix"]: row["n"] for row in rows}




def _breadcrumbs(user: Any, place: Place) -> list[dict[str, Any]]:
    scope = user.scope_paths(Capability.REGISTRY_VIEW)
    return [{"place": a, "link": any(a.path.startswith(p) for p in scope)} for a in selectors.place_ancestors(place)]


@login_required
@require_GET
@domain_errors
def place_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    place = selectors.place_get(actor=user, place_id=pk)
    child_kind = PLACE_CHILD_KIND.get(place.kind)
    children: list[dict[str, Any]] = []
    if child_kind:
        width = PLACE_PATH_LENGTHS[child_kind]
        people = _counts_by_child(restrict(Person.objects.filter(status="active"), user,
                                           capability=Capability.REGISTRY_VIEW), place, width)
        households = _counts_by_child(restrict(Household.objects.all(), user, capability=Capability.REGISTRY_VIEW),
                                      place, width)
        children = [
            {"place": c, "people": people.get(c.path, 0), "households": households.get(c.path, 0)}
            for c in selectors.place_children(actor=user, place=place).only("id", "name", "kind", "path", "floors",
                                                                            "parent_id")
        ]
    households_here: list[dict[str, Any]] = []
    loose_people: list[Person] = []
    if place.kind == PlaceKind.UNIT:
        vocabulary = selectors.caretag_by_digest()
        for household in selectors.household_list(actor=user, within=place):
            households_here.append({
                "household": household,
                "members": [{"person": p, "age": p.age(), "tags": selectors.person_tags(p, vocabulary=vocabulary)}
                            for p in selectors.household_members(household)],
            })
        loose_people = list(selectors.person_list(actor=user, filters=selectors.PersonFilter(within=place))
                            .filter(household=None))
    context = {
        "place": place,
        "breadcrumbs": _breadcrumbs(user, place),
        "children_heading": CHILD_HEADINGS[child_kind] if child_kind else "",
        "children_count": str(CHILD_COUNTS[child_kind]) % {"n": len(children)} if child_kind else "",
        "children": children,
        "households": households_here,
        "loose_people": loose_people,
        "show_people_link": place.kind in PEOPLE_LINK_KINDS,
        "show_map": place.kind in MAP_KINDS,
        "tile_url": settings.SHEQU_TILE_URL,
        "can_edit": actor_can_at(user, place.path, Capability.REGISTRY_EDIT),
    }
    return render(request, "registry/place_detail.html", context)


@login_required
@require_GET
@domain_errors
def place_map(request: HttpRequest, pk: int) -> HttpResponse:
    place = selectors.place_get(actor=request.user, place_id=pk)
    features = selectors.place_map_features(actor=request.user, place=place)
    return JsonResponse(features, content_type="application/geo+json", json_dumps_params={"ensure_ascii": False})


@login_required
@require_GET
@domain_errors
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    household = selectors.household_get(actor=user, household_id=pk)
    vocabulary = selectors.caretag_by_digest()
    members = [{"person": p, "age": p.age(), "tags": selectors.person_tags(p, vocabulary=vocabulary)}
               for p in selectors.household_members(household)]
    context = {
        "household": household,
        "unit": household.unit,
        "address": selectors.place_addresses([household.unit])[household.unit.pk],
        "breadcrumbs": _breadcrumbs(user, household.unit) + [{"place": household.unit, "link": True}],
        "members": members,
    }
    return render(request, "registry/household_detail.html", context)


urlpatterns = [
    path("places/", place_tree, name="place_tree"),
    path("places/<int:pk>/", place_detail, name="place_detail"),
    path("places/<int:pk>/map.geojson", place_map, name="place_map"),
    path("households/<int:pk>/", household_detail, name="household_detail"),
]
