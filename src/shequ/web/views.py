"""The home page: an overview of the user's scope for staff, a welcome for residents."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from shequ.accounts.roles import Capability
from shequ.registry import selectors


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.has_capability(Capability.REGISTRY_VIEW):  # type: ignore[union-attr]
        return render(request, "web/home_resident.html", {})
    tags = selectors.caretag_list()
    scopes: list[dict[str, Any]] = []
    for root in selectors.place_roots(actor=user):
        counts = selectors.person_tag_counts(actor=user, within=root)
        scopes.append({
            "place": root,
            "summary": selectors.place_summary(actor=user, place=root),
            "tag_counts": [{"tag": t, "count": counts.get(t.slug, 0)} for t in tags],
        })
    return render(request, "web/home.html", {"scopes": scopes})
