"""Pages of the ledger exports (台账导出): the ledgers with their counts, masked downloads, requests for
unmasked exports and their approval by a second person."""

from __future__ import annotations

import os
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shequ.accounts.roles import Capability
from shequ.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from shequ.core.scope import actor_can_at
from shequ.ledgers import exports
from shequ.ledgers.choices import ExportStatus
from shequ.ledgers.forms_exports import ExportDecisionForm, ExportRequestForm
from shequ.registry import selectors
from shequ.registry.models import Place
from shequ.web.http import domain_errors


def _file_response(file: exports.ExportFile) -> FileResponse:
    """Stream the workbook and remove it: the open handle keeps the data readable after the unlink."""
    handle = open(file.path, "rb")  # noqa: SIM115 - FileResponse closes it
    os.unlink(file.path)
    response = FileResponse(handle, as_attachment=True, filename=file.filename, content_type=file.content_type)
    response["Cache-Control"] = "no-store"
    return response


def _chosen_place(request: HttpRequest, params: QueryDict) -> Place | None:
    """The place of an export: ``place``, else a people-list ``compound``/``within``, else the only root."""
    user = request.user
    pk = params.get("place") or params.get("compound") or params.get("within")
    if pk:
        return selectors.place_get(actor=user, place_id=pk)
    roots = selectors.place_roots(actor=user)
    return roots[0] if len(roots) == 1 else None


@login_required
@require_GET
@domain_errors
def export_home(request: HttpRequest) -> HttpResponse:
    user = request.user
    places = exports.export_places(actor=user)
    if not places:
        raise NotFound()
    if request.GET.get("place"):
        place = selectors.place_get(actor=user, place_id=request.GET["place"])
    else:
        communities = [p for p in places if p.kind == "community"]
        place = (communities or places)[0]
    counts = exports.ledger_counts(actor=user, place=place)
    ledgers = [
        {
            "ledger": ledger,
            "count": counts[key],
            "masked_url": reverse("ledgers:export_download") + "?" + urlencode({"ledger": key, "place": place.pk}),
            "request_url": reverse("ledgers:export_request_new") + "?" + urlencode({"ledger": key, "place": place.pk}),
        }
        for key, ledger in exports.LEDGERS.items()
    ]
    can_request = actor_can_at(user, place.path, Capability.PII_EXPORT)
    exporter = user.has_capability(Capability.PII_EXPORT)
    waiting = exports.export_requests_to_decide(actor=user).count() if exporter else 0
    return render(request, "ledgers/exports/home.html", {
        "places": places, "place": place, "ledgers": ledgers, "can_request": can_request, "waiting": waiting,
        "exporter": exporter,
    })


@login_required
@require_GET
@never_cache
@domain_errors
def export_download(request: HttpRequest) -> HttpResponse:
    """A masked workbook (脱敏导出) of a ledger or of the people list's current filter."""
    try:
        ledger = exports.ledger_get(request.GET.get("ledger") or "people")
    except ValidationFailed as exc:
        raise NotFound() from exc
    place = _chosen_place(request, request.GET)
    if place is None:
        messages.warning(request, str(exports.EXPORT_PLACE_REQUIRED))
        return redirect("ledgers:export_home")
    file = exports.export_masked(actor=request.user, place=place, ledger=ledger, filters=request.GET)
    return _file_response(file)


@login_required
@require_http_methods(["GET", "POST"])
@domain_errors
def export_request_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    places = [p for p in exports.export_places(actor=user) if actor_can_at(user, p.path, Capability.PII_EXPORT)]
    if not places:
        raise PermissionDenied()
    filters = exports.clean_filters(request.GET)
    initial: dict[str, Any] = {"ledger": request.GET.get("ledger", "people"), "place": request.GET.get("place")}
    if request.GET.get("place"):
        extra = selectors.place_get(actor=user, place_id=request.GET["place"])
        if extra.pk not in {p.pk for p in places} and actor_can_at(user, extra.path, Capability.PII_EXPORT):
            places.append(extra)
    form = ExportRequestForm(request.POST or None, initial=initial, places=places)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        place = selectors.place_get(actor=user, place_id=data["place"])
        try:
            exports.export_request(
                actor=user, place=place, ledger=data["ledger"], filters=filters, reason=data["reason"]
            )
        except ValidationFailed as exc:
            for field, errors in exc.errors.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, _("已提交明文导出申请，等待另一位有权限的人员审批。"))
            return redirect("ledgers:export_request_list")
    ledger = exports.LEDGERS.get(str(form["ledger"].value() or ""))
    return render(request, "ledgers/exports/request_form.html", {
        "form": form, "filters": filters if ledger is None or ledger.takes_filters else {},
        "query": request.GET.urlencode(),
    })


def _rows(requests: Any, *, user: Any) -> list[dict[str, Any]]:
    rows = []
    for item in requests:
        ledger = exports.LEDGERS.get(item.ledger)
        state = exports.export_request_state(item)
        rows.append({
            "request": item,
            "title": f"{item.place.name}{ledger.title}" if ledger else item.ledger,
            "state": state,
            "state_label": ExportStatus(state).label,
            "can_download": state == ExportStatus.APPROVED and item.requested_by_id == user.pk,
        })
    return rows


@login_required
@require_GET
@domain_errors
def export_request_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    mine = _rows(exports.export_requests_mine(actor=user)[:50], user=user)
    to_decide = _rows(exports.export_requests_to_decide(actor=user)[:50], user=user)
    return render(request, "ledgers/exports/request_list.html", {"mine": mine, "to_decide": to_decide})


@login_required
@require_POST
@domain_errors
def export_request_decide(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    item = exports.export_request_get(actor=user, request_id=pk)
    form = ExportDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择批准或驳回。"))
        return redirect("ledgers:export_request_list")
    data = form.cleaned_data
    try:
        exports.export_decide(
            actor=user, request=item, approve=data["decision"] == "approve", note=data["note"], version=data["version"]
        )
    except (PermissionDenied, Conflict) as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("已批准，申请人可在24小时内下载一次。") if data["decision"] == "approve"
                         else _("已驳回该申请。"))
    return redirect("ledgers:export_request_list")


@login_required
@require_POST
@never_cache
@domain_errors
def export_request_file(request: HttpRequest, pk: int) -> HttpResponse:
    """The approved unmasked workbook, once (POST: it uses up the approval)."""
    user = request.user
    item = exports.export_request_get(actor=user, request_id=pk)
    try:
        file = exports.export_download(actor=user, request=item)
    except (PermissionDenied, Conflict) as exc:
        messages.error(request, str(exc.message))
        return redirect("ledgers:export_request_list")
    return _file_response(file)
