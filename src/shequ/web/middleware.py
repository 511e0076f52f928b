"""Chinese first: the interface is Simplified Chinese unless the user chose another language."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class ChineseFirstMiddleware:
    """Ignore the browser's Accept-Language, so only the language switch (the cookie) changes the language.

    A community worker's phone or a borrowed office PC set to English must still get the Chinese
    interface; English is there for whoever asks for it explicitly.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
