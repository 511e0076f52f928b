"""Grid pages (网格): the map of one grid, its named people in charge, and drawing a new grid."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from shequ.accounts.roles import Capability
from shequ.core import pii
from shequ.core.errors import PermissionDenied, ValidationFailed
from shequ.core.forms import apply_service_errors
from shequ.core.scope import actor_can_at
from shequ.registry import selectors, services
from shequ.registry.choices import PlaceKind
from shequ.registry.forms_admin import GridForm, GridMemberForm
from shequ.registry.models import Grid
from shequ.web.http import domain_errors


def _feature(geometry: Any, **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def _detail_context(request: HttpRequest, grid: Grid, member_form: GridMemberForm) -> dict[str, Any]:
    community = grid.community
    features = []
    if community.geometry:
        features.append(_feature(community.geometry, role="self", name=community.name))
    features.append(_feature(grid.geometry, role="grid", name=grid.name))
    members = [{"member": m, "masked_phone": pii.mask_phone(m.phone)} for m in grid.members.all()]
    return {
        "grid": grid,
        "members": members,
        "member_form": member_form,
        "can_edit": actor_can_at(request.user, grid.scope_path, Capability.REGISTRY_EDIT),
        "map_data": {"type": "FeatureCollection", "features": features},
        "tile_url": settings.SHEQU_TILE_URL,
        "ancestors": selectors.place_ancestors(community) + [community],
    }


@login_required
@domain_errors
def grid_detail(request: HttpRequest, pk: int) -> HttpResponse:
    grid = selectors.grid_get(actor=request.user, grid_id=pk)
    return render(request, "registry/grid_detail.html", _detail_context(request, grid, GridMemberForm()))


@login_required
@domain_errors
@require_POST
def grid_member_add(request: HttpRequest, pk: int) -> HttpResponse:
    grid = selectors.grid_get(actor=request.user, grid_id=pk)
    form = GridMemberForm(request.POST)
    if form.is_valid():
        try:
            services.grid_member_add(actor=request.user, grid=grid, **form.cleaned_data)
        except ValidationFailed as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("已添加网格责任人。"))
            return redirect("registry:grid_detail", pk=grid.pk)
    return render(request, "registry/grid_detail.html", _detail_context(request, grid, form), status=400)


@login_required
@domain_errors
@require_POST
def grid_member_remove(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    grid = selectors.grid_get(actor=request.user, grid_id=pk)
    member = next((m for m in grid.members.all() if m.pk == member_pk), None)
    if member is None:
        raise Http404()
    services.grid_member_remove(actor=request.user, member=member)
    messages.success(request, _("已移除网格责任人“%(name)s”。") % {"name": member.name})
    return redirect("registry:grid_detail", pk=grid.pk)


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def grid_create(request: HttpRequest, pk: int) -> HttpResponse:
    community = selectors.place_get(actor=request.user, place_id=pk)
    if community.kind != PlaceKind.COMMUNITY:
        raise Http404()
    if not actor_can_at(request.user, community.path, Capability.REGISTRY_EDIT):
        raise PermissionDenied()
    form = GridForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            grid = services.grid_create(actor=request.user, community=community, name=form.cleaned_data["name"],
                                        geometry=form.cleaned_data["geometry"])
        except ValidationFailed as exc:
            apply_service_errors(form, exc, aliases={"community": "__all__"})
        else:
            messages.success(request, _("已划设网格“%(name)s”。") % {"name": grid.name})
            return redirect("registry:grid_detail", pk=grid.pk)
    existing = selectors.grid_list(actor=request.user, community=community)
    features = []
    if community.geometry:
        features.append(_feature(community.geometry, role="self", name=community.name))
    features += [_feature(g.geometry, role="other", name=g.name) for g in existing]
    return render(request, "registry/grid_form.html", {
        "form": form, "community": community, "existing": existing,
        "map_data": {"type": "FeatureCollection", "features": features}, "tile_url": settings.SHEQU_TILE_URL,
        "ancestors": selectors.place_ancestors(community) + [community],
    })


urlpatterns = [
    path("grids/<int:pk>/", grid_detail, name="grid_detail"),
    path("grids/<int:pk>/members/", grid_member_add, name="grid_member_add"),
    path("grids/<int:pk>/members/<int:member_pk>/remove/", grid_member_remove, name="grid_member_remove"),
    path("places/<int:pk>/grids/new/", grid_create, name="grid_create"),
]
