"""A resident's own data: download everything the registry holds on them (PIPL art. 45)."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from shequ.core.errors import NotFound
from shequ.registry import services


@login_required
def my_data(request: HttpRequest) -> HttpResponse:
    try:
        data = services.person_export_own(actor=request.user)
    except NotFound as exc:
        return render(request, "registry/my_data_missing.html", {"message": exc.message}, status=404)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="my-data.json"'
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [path("me/data.json", my_data, name="my_data")]
