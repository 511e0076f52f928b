"""Care-tag vocabulary pages (关爱标签字典): district administrators only; others get 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from shequ.accounts.roles import Capability
from shequ.core.errors import ValidationFailed
from shequ.core.forms import apply_service_errors
from shequ.registry import selectors, services
from shequ.registry.forms_admin import CareTagForm
from shequ.registry.models import CareTag
from shequ.web.http import domain_errors


def _require_vocabulary(request: HttpRequest) -> None:
    # The vocabulary is not a record of anyone's area: to everyone else the page does not exist.
    if not request.user.has_capability(Capability.VOCABULARY_EDIT):  # type: ignore[union-attr]
        raise Http404()


def _tag_or_404(pk: int) -> CareTag:
    for tag in selectors.caretag_list(include_inactive=True):
        if tag.pk == pk:
            return tag
    raise Http404()


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def caretag_list(request: HttpRequest) -> HttpResponse:
    _require_vocabulary(request)
    form = CareTagForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tag = services.caretag_create(actor=request.user, **form.cleaned_data)
        except ValidationFailed as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("已新增关爱标签“%(name)s”。") % {"name": tag.name})
            return redirect("registry:caretag_list")
    return render(request, "registry/caretag_list.html", {
        "tags": selectors.caretag_list(include_inactive=True), "form": form,
    })


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def caretag_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require_vocabulary(request)
    tag = _tag_or_404(pk)
    initial = {f: getattr(tag, f) for f in ("name", "sensitive", "description", "sort", "active")}
    form = CareTagForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.caretag_update(actor=request.user, tag=tag, **form.cleaned_data)
        except ValidationFailed as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("已保存关爱标签“%(name)s”。") % {"name": tag.name})
            return redirect("registry:caretag_list")
    return render(request, "registry/caretag_form.html", {"tag": tag, "form": form})


urlpatterns = [
    path("care-tags/", caretag_list, name="caretag_list"),
    path("care-tags/<int:pk>/edit/", caretag_edit, name="caretag_edit"),
]
