"""Second factor (QUALITY §3): staff who may reveal personal data confirm a TOTP code after signing in.

With ``SHEQU_REQUIRE_2FA`` on (the production default), a session whose user holds the ``pii.reveal``
capability anywhere is sent to the second-factor page until it has been verified; only that page,
logout and static files stay reachable. API calls made with such a session get a JSON 403. Bearer
tokens are not affected: a token is issued to a verified session and is itself the credential.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from shequ.accounts.roles import Capability

SECOND_FACTOR_REQUIRED = "请先完成双因素验证（动态验证码）。"


def needs_second_factor(user: object) -> bool:
    if not settings.SHEQU_REQUIRE_2FA or not getattr(user, "is_authenticated", False):
        return False
    if getattr(user, "is_verified", lambda: False)():
        return False
    return user.has_capability(Capability.PII_REVEAL)  # type: ignore[attr-defined]


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if needs_second_factor(request.user) and not self._exempt(request):
            if request.path.startswith("/api/"):
                if request.headers.get("Authorization", "").startswith("Bearer "):
                    return self.get_response(request)
                return JsonResponse(
                    {"code": "second_factor_required", "message": SECOND_FACTOR_REQUIRED, "errors": []}, status=403
                )
            return redirect(f"{reverse('second_factor')}?next={request.get_full_path()}")
        return self.get_response(request)

    @staticmethod
    def _exempt(request: HttpRequest) -> bool:
        path = request.path
        return path in {reverse("second_factor"), reverse("logout"), reverse("login")} or path.startswith(
            settings.STATIC_URL
        )
