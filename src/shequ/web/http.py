"""Turning domain errors into HTTP answers for pages.

Services and selectors raise ``core.errors``; a page answers ``NotFound`` with 404 (missing and out of
scope look the same) and ``PermissionDenied`` with 403. Validation errors are handled by each view,
next to the form fields they belong to.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponse

from shequ.core.errors import NotFound, PermissionDenied


def domain_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorate a view so ``NotFound`` → 404 page and ``PermissionDenied`` → 403 page."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(*args, **kwargs)
        except NotFound as exc:
            raise Http404(str(exc.message)) from exc
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc.message)) from exc

    return wrapper
