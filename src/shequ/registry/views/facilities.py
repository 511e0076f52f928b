"""Facility pages (设施): the 15-minute life circle's service facilities and community space."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from shequ.accounts.roles import Capability
from shequ.core.errors import PermissionDenied, ValidationFailed
from shequ.core.forms import apply_service_errors, paginate
from shequ.core.scope import restrict
from shequ.registry import selectors, services
from shequ.registry.choices import PlaceKind
from shequ.registry.forms_admin import FacilityFilterForm, FacilityForm
from shequ.web.http import domain_errors


@login_required
@domain_errors
def facility_list(request: HttpRequest) -> HttpResponse:
    filters = FacilityFilterForm(request.GET or None)
    kind = filters.cleaned_data["kind"] if filters.is_valid() else ""
    page, query = paginate(request, selectors.facility_list(actor=request.user, kind=kind or None))
    return render(request, "registry/facility_list.html", {
        "filters": filters, "page_obj": page, "query": query,
        "can_create": request.user.has_capability(Capability.REGISTRY_EDIT),  # type: ignore[union-attr]
    })


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def facility_create(request: HttpRequest) -> HttpResponse:
    if not request.user.has_capability(Capability.REGISTRY_EDIT):  # type: ignore[union-attr]
        raise PermissionDenied()
    places = restrict(
        selectors.place_list(actor=request.user).filter(
            kind__in=[PlaceKind.STREET, PlaceKind.COMMUNITY, PlaceKind.COMPOUND]),
        request.user, capability=Capability.REGISTRY_EDIT,
    )
    form = FacilityForm(request.POST or None, places=places)
    if request.method == "POST" and form.is_valid():
        try:
            facility = services.facility_create(actor=request.user, place=form.cleaned_data["place"],
                                                **form.service_fields())
        except ValidationFailed as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("已登记设施“%(name)s”。") % {"name": facility.name})
            return redirect("registry:facility_list")
    return render(request, "registry/facility_form.html", {"form": form})


urlpatterns = [
    path("facilities/", facility_list, name="facility_list"),
    path("facilities/new/", facility_create, name="facility_create"),
]
