"""API v1 (django-ninja): one NinjaAPI mounted at ``/api/v1/``, each app adding its own Router.

Authentication is a bearer token (``Authorization: Bearer shq_…``, see ``accounts.services``) or the
Django session; a session write must carry the CSRF token. The actor of every endpoint is
``request.auth``. Errors are JSON with a stable code (``core.api_errors``). The docs page uses
the Swagger UI that django-ninja ships in its static files: no CDN.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import NinjaAPI, Swagger
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from shequ.accounts.services import api_token_user
from shequ.core import api_errors
from shequ.core.errors import PermissionDenied

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <token>``; an unknown, expired or revoked token is no identity."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = api_token_user(request)
        if user is not None:
            request.user = user
        return user


class SessionCsrfAuth(APIKeyCookie):
    """The signed-in Django session; unsafe methods must pass Django's CSRF check.

    Unlike ninja's ``SessionAuth`` the CSRF check runs only for a signed-in session, so an anonymous
    request answers 401 (not 403), and a failed check answers our JSON ``csrf_failed``.
    """

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise PermissionDenied(api_errors.CSRF_FAILED, code="csrf_failed")
        return user


api = NinjaAPI(
    title="社区云 API",
    version="1",
    description="社区云基础数据接口：区域、网格、设施、住户、人员、组织。个人信息一律脱敏输出，明文仅经“查看明文”接口（须填写事由，记入审计）。",
    urls_namespace="api-v1",
    auth=[TokenAuth(), SessionCsrfAuth()],
    docs=Swagger(settings={"persistAuthorization": False}),
)
api_errors.install(api)


def _mount() -> None:
    from shequ.accounts.api import router as accounts_router
    from shequ.registry.api import router as registry_router

    api.add_router("/", accounts_router)
    api.add_router("/", registry_router)
    api.add_router("/", "shequ.deliberation.api.router")
    api.add_router("/", "shequ.cases.api.router")


_mount()
