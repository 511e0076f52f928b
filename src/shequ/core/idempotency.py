"""Idempotent API writes (QUALITY §12): a retried request with the same ``Idempotency-Key`` is not applied twice.

A phone that loses its connection after sending a case or a ballot sends it again with the same key.
The first request's response is stored; a replay with the same method, path and body gets that
response again (header ``Idempotent-Replayed: true``); the same key with a different request answers
422; a replay while the first is still being processed answers 409. Responses of 5xx are not kept, so
the client may retry, nor responses marked ``Cache-Control: no-store`` (a revealed ID number must not
be copied into this table). Keys are kept for 24 hours (a retention policy removes them).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from contextlib import nullcontext

from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _

from shequ.core.models import IdempotencyRecord
from shequ.core.retention import RetentionPolicy, register

HEADER = "Idempotency-Key"
KEY_REUSED = _("这个 Idempotency-Key 已用于另一个请求，请为新请求生成新的键。")
IN_PROGRESS = _("使用同一 Idempotency-Key 的请求仍在处理中，请稍后重试。")
KEY_TOO_LONG = _("Idempotency-Key 不能超过200个字符。")
KEEP_FOR = dt.timedelta(hours=24)
METHODS = frozenset({"POST", "PUT", "PATCH"})


def _principal(request: HttpRequest) -> str | None:
    if request.headers.get("Authorization", "").lower().startswith("bearer "):
        from shequ.accounts.services import api_token_user

        user = api_token_user(request)
        return f"u{user.pk}" if user else None
    user = getattr(request, "user", None)
    return f"u{user.pk}" if user is not None and user.is_authenticated else None


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\0" + request.get_full_path().encode() + b"\0")
    digest.update(request.body)
    return digest.hexdigest()


def _error(code: str, message: object, status: int) -> JsonResponse:
    return JsonResponse(
        {"code": code, "message": str(message), "errors": [{"field": HEADER, "message": str(message)}]},
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )


class IdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER, "").strip()
        if not key or request.method not in METHODS or not request.path.startswith("/api/"):
            return self.get_response(request)
        if len(key) > 200:
            return _error("idempotency_key_invalid", KEY_TOO_LONG, 400)
        principal = _principal(request)
        if principal is None:  # not signed in: the API answers 401 and nothing is stored
            return self.get_response(request)
        fingerprint = _fingerprint(request)
        try:
            # In autocommit (the usual case) the INSERT is its own transaction; inside a request-wide
            # transaction a savepoint keeps a clash from breaking it.
            with transaction.atomic() if connection.in_atomic_block else nullcontext():
                record = IdempotencyRecord.objects.create(principal=principal, key=key, fingerprint=fingerprint)
        except IntegrityError:
            earlier = IdempotencyRecord.objects.filter(principal=principal, key=key).first()
            if earlier is None:  # removed between the two statements: treat as new next time
                return _error("idempotency_in_progress", IN_PROGRESS, 409)
            if earlier.fingerprint != fingerprint:
                return _error("idempotency_key_reused", KEY_REUSED, 422)
            if earlier.status is None:
                return _error("idempotency_in_progress", IN_PROGRESS, 409)
            replay = HttpResponse(bytes(earlier.body), status=earlier.status, content_type=earlier.content_type)
            replay["Idempotent-Replayed"] = "true"
            return replay
        try:
            response = self.get_response(request)
        except Exception:
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
            raise
        # Never keep a response that must not be stored (a reveal of personal data says no-store).
        if (
            response.status_code >= 500
            or getattr(response, "streaming", False)
            or "no-store" in response.get("Cache-Control", "")
        ):
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
            return response
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            status=response.status_code, content_type=response.get("Content-Type", ""), body=response.content
        )
        return response


def purge_idempotency_records(cutoff: dt.datetime) -> int:
    deleted, _detail = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


register(
    RetentionPolicy(
        name="core.idempotency_keys",
        description="API 幂等键及其首次响应：保存24小时",
        period=KEEP_FOR,
        purge=purge_idempotency_records,
    )
)
