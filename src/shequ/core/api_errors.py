"""JSON error bodies of the API: ``{"code": ..., "message": ..., "errors": [{"field": ..., "message": ...}]}``.

Every error the API answers goes through these handlers, so clients see one shape with a stable
English ``code`` and a translated ``message``: the domain errors of ``core.errors`` keep their own
status and code, ninja's input validation answers 400 ``validation_failed`` (never 422) with the
field path, authentication 401 ``unauthenticated``, and anything unexpected 500 ``server_error``
with a generic message (the traceback goes to the log, never to the client).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from shequ.core.errors import NOT_FOUND, PERMISSION_DENIED, VALIDATION_FAILED, ShequError, ValidationFailed

logger = logging.getLogger("shequ.api")

UNAUTHENTICATED = _("请先登录，或在请求头中提供有效的 API 令牌（Authorization: Bearer …）。")
CSRF_FAILED = _("CSRF 校验失败：会话方式提交数据时须携带 CSRF 令牌。")
SERVER_ERROR = _("服务器内部错误，请稍后重试；如持续出现请联系管理员。")
BAD_REQUEST = _("请求格式有误。")
FIELD_REQUIRED = _("此项为必填项。")
FIELD_NOT_ALLOWED = _("不允许提交此字段。")
TOO_MANY_REQUESTS = _("请求过于频繁，请稍后重试。")

# Field paths of ninja's validation errors start with where the value came from and, for a body
# schema, the name of the view's parameter: neither means anything to the client.
_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}
_HTTP_CODES = {400: "bad_request", 401: "unauthenticated", 403: "permission_denied", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 429: "throttled"}
_PYDANTIC_MESSAGES = {"missing": FIELD_REQUIRED, "extra_forbidden": FIELD_NOT_ALLOWED}


class FieldError(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    """The body of every error response."""

    code: str
    message: str
    errors: list[FieldError] = []


def error_body(code: str, message: Any, errors: Iterable[Mapping[str, Any]] = ()) -> dict[str, Any]:
    return {"code": code, "message": str(message), "errors": [{"field": str(e["field"]), "message": str(e["message"])}
                                                             for e in errors]}


def _field_path(loc: Iterable[Any], *, body_params: int) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in _SOURCES:
        source = parts.pop(0)
        if source == "body" and len(parts) > 1 and body_params:
            parts.pop(0)  # the view's parameter name (``payload``)
    return ".".join(parts) or "__all__"


def ninja_validation_errors(exc: NinjaValidationError) -> list[dict[str, str]]:
    out = []
    for err in exc.errors:
        message = _PYDANTIC_MESSAGES.get(str(err.get("type", "")), err.get("msg", VALIDATION_FAILED))
        out.append({"field": _field_path(err.get("loc", ()), body_params=1), "message": str(message)})
    return out


def install(api: NinjaAPI) -> None:
    """Register the handlers on ``api`` (after ninja's defaults, which they replace)."""

    def respond(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
        return api.create_response(request, body, status=status)

    def on_shequ_error(request: HttpRequest, exc: ShequError) -> HttpResponse:
        errors = exc.as_list() if isinstance(exc, ValidationFailed) else []
        return respond(request, exc.status, error_body(exc.code, exc.message, errors))

    def on_validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = ninja_validation_errors(exc)
        message = VALIDATION_FAILED
        if len(errors) == 1:
            message = f"{errors[0]['field']}: {errors[0]['message']}"
        return respond(request, 400, error_body("validation_failed", message, errors))

    def on_django_validation(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        return on_shequ_error(request, ValidationFailed.from_django(exc))

    def on_404(request: HttpRequest, exc: Exception) -> HttpResponse:
        return respond(request, 404, error_body("not_found", NOT_FOUND))

    def on_forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
        return respond(request, 403, error_body("permission_denied", PERMISSION_DENIED))

    def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = respond(request, 401, error_body("unauthenticated", UNAUTHENTICATED))
        response["WWW-Authenticate"] = 'Bearer realm="shequ"'
        return response

    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        status = exc.status_code
        code = _HTTP_CODES.get(status, "error" if status < 500 else "server_error")
        message: Any = {400: BAD_REQUEST, 404: NOT_FOUND, 403: PERMISSION_DENIED, 429: TOO_MANY_REQUESTS}.get(
            status, SERVER_ERROR if status >= 500 else BAD_REQUEST
        )
        return respond(request, status, error_body(code, message))

    def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("unexpected API error on %s %s", request.method, request.path)
        return respond(request, 500, error_body("server_error", SERVER_ERROR))

    api.add_exception_handler(Exception, on_unexpected)
    api.add_exception_handler(ShequError, on_shequ_error)
    api.add_exception_handler(NinjaValidationError, on_validation)
    api.add_exception_handler(DjangoValidationError, on_django_validation)
    api.add_exception_handler(Http404, on_404)
    api.add_exception_handler(DjangoPermissionDenied, on_forbidden)
    api.add_exception_handler(HttpError, on_http_error)
    api.add_exception_handler(AuthenticationError, on_unauthenticated)
