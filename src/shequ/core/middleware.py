"""Request id: one id per request, carried into the audit trail and the response headers."""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("shequ_request_id", default="")
_client_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("shequ_client_ip", default=None)


def current_request_id() -> str:
    return _request_id.get()


def current_client_ip() -> str | None:
    return _client_ip.get()


class RequestIdMiddleware:
    header = "X-Request-ID"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(self.header, "")
        rid = incoming if incoming and len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        token = _request_id.set(rid)
        # REMOTE_ADDR is the proxy's address behind a reverse proxy; the proxy is trusted to set it
        # right (see docs/deployment.md), headers from the client are not.
        ip_token = _client_ip.set(request.META.get("REMOTE_ADDR") or None)
        request.request_id = rid  # type: ignore[attr-defined]
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
            _client_ip.reset(ip_token)
        response[self.header] = rid
        return response
