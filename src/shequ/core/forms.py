"""Helpers the staff pages share: service errors onto form fields, and pagination."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.paginator import Page, Paginator
from django.http import HttpRequest

from shequ.core.errors import ValidationFailed

PAGE_SIZE = 25


def apply_service_errors(form: forms.BaseForm, exc: ValidationFailed, *, aliases: dict[str, str] | None = None) -> None:
    """Put each message of a service's ``ValidationFailed`` next to the form field it names.

    ``aliases`` maps a service field name onto the form's (e.g. ``community`` → ``place``); a field the
    form does not have goes to the form's general errors, so no message is lost.
    """
    aliases = aliases or {}
    for field, messages in exc.errors.items():
        name = aliases.get(field, field)
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, message)
    if not exc.errors:
        form.add_error(None, str(exc.message))


def paginate(request: HttpRequest, items: Any, *, per_page: int = PAGE_SIZE) -> tuple[Page, str]:
    """The requested page of ``items`` and the query string (without ``page``) for the pager links."""
    page = Paginator(items, per_page).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()
