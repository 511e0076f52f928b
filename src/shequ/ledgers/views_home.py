"""The ledgers home page (台账): imports, conflicts to resolve, duplicates to review, exports."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from shequ.accounts.roles import Capability
from shequ.core.errors import PermissionDenied
from shequ.ledgers.overview import ledger_overview
from shequ.web.http import domain_errors


@login_required
@require_GET
@domain_errors
def ledger_home(request: HttpRequest) -> HttpResponse:
    if not request.user.has_capability(Capability.REGISTRY_VIEW):  # type: ignore[union-attr]
        raise PermissionDenied()
    return render(request, "ledgers/home.html", {"overview": ledger_overview(actor=request.user)})
