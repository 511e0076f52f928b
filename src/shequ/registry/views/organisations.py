"""Organisations registry pages (组织名录): 驻区单位, 社会组织, 党组织, 物业, 业委会."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from shequ.accounts.roles import Capability
from shequ.core import pii
from shequ.core.errors import Conflict, PermissionDenied, ValidationFailed
from shequ.core.forms import apply_service_errors, paginate
from shequ.core.scope import actor_can_at, restrict
from shequ.registry import selectors, services
from shequ.registry.choices import PlaceKind
from shequ.registry.forms_admin import OrganisationFilterForm, OrganisationForm
from shequ.registry.models import Place
from shequ.web.http import domain_errors


def _editable_places(actor: object) -> QuerySet[Place]:
    """Streets and communities where the actor may keep the organisations registry."""
    places = selectors.place_list(actor=actor).filter(kind__in=[PlaceKind.STREET, PlaceKind.COMMUNITY])
    return restrict(places, actor, capability=Capability.ORGANISATION_EDIT)


@login_required
@domain_errors
def organisation_list(request: HttpRequest) -> HttpResponse:
    filters = OrganisationFilterForm(request.GET or None)
    kind = q = ""
    if filters.is_valid():
        kind, q = filters.cleaned_data["kind"], filters.cleaned_data["q"].strip()
    organisations = selectors.organisation_list(actor=request.user, kind=kind, q=q)
    page, query = paginate(request, organisations)
    return render(request, "registry/organisation_list.html", {
        "filters": filters, "page_obj": page, "query": query,
        "can_create": request.user.has_capability(Capability.ORGANISATION_EDIT),  # type: ignore[union-attr]
    })


@login_required
@domain_errors
def organisation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    org = selectors.organisation_get(actor=request.user, organisation_id=pk)
    return render(request, "registry/organisation_detail.html", {
        "org": org,
        "masked_phone": pii.mask_phone(org.contact_phone),
        "can_edit": actor_can_at(request.user, org.scope_path, Capability.ORGANISATION_EDIT),
        "ancestors": selectors.place_ancestors(org.place) + [org.place],
    })


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def organisation_create(request: HttpRequest) -> HttpResponse:
    if not request.user.has_capability(Capability.ORGANISATION_EDIT):  # type: ignore[union-attr]
        raise PermissionDenied()
    places = _editable_places(request.user)
    form = OrganisationForm(request.POST or None, places=places)
    if request.method == "POST" and form.is_valid():
        try:
            org = services.organisation_create(actor=request.user, place=form.cleaned_data["place"],
                                               **form.service_fields(editing=False))
        except ValidationFailed as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("已登记组织“%(name)s”。") % {"name": org.name})
            return redirect("registry:organisation_detail", pk=org.pk)
    return render(request, "registry/organisation_form.html", {"form": form, "org": None})


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def organisation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    org = selectors.organisation_get(actor=request.user, organisation_id=pk)
    if not actor_can_at(request.user, org.scope_path, Capability.ORGANISATION_EDIT):
        raise PermissionDenied()
    masked = pii.mask_phone(org.contact_phone)
    initial = {f: getattr(org, f) for f in ("kind", "name", "registration_number", "address", "contact_name",
                                            "notes", "active", "version")}
    form = OrganisationForm(request.POST or None, initial=initial, editing=True, masked_phone=masked)
    if request.method == "POST" and form.is_valid():
        try:
            services.organisation_update(actor=request.user, organisation=org,
                                         version=form.cleaned_data["version"], **form.service_fields(editing=True))
        except ValidationFailed as exc:
            apply_service_errors(form, exc)
        except Conflict as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("已保存。"))
            return redirect("registry:organisation_detail", pk=org.pk)
    return render(request, "registry/organisation_form.html", {"form": form, "org": org})


urlpatterns = [
    path("organisations/", organisation_list, name="organisation_list"),
    path("organisations/new/", organisation_create, name="organisation_create"),
    path("organisations/<int:pk>/", organisation_detail, name="organisation_detail"),
    path("organisations/<int:pk>/edit/", organisation_edit, name="organisation_edit"),
]
