"""API of accounts: who am I (roles, scope, capabilities)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from shequ.core.api_errors import ErrorOut

router = Router(tags=["账号"])


class MembershipOut(Schema):
    role: str
    place: int
    place_name: str
    place_path: str
    capabilities: list[str]


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    roles: list[str]
    scope_paths: list[str]
    memberships: list[MembershipOut]


@router.get("/me", response={200: MeOut, 401: ErrorOut}, summary="当前用户：角色与管辖范围")
def me(request: HttpRequest) -> MeOut:
    from shequ.accounts.roles import ROLE_CAPABILITIES

    user = request.auth  # type: ignore[attr-defined]
    memberships = [
        MembershipOut(role=m.role, place=m.place_id, place_name=m.place.name, place_path=m.place.path,
                      capabilities=sorted(ROLE_CAPABILITIES.get(m.role, frozenset())))
        for m in user.active_memberships()
    ]
    return MeOut(id=user.pk, username=user.username, display_name=user.display_name, roles=sorted(user.roles()),
                 scope_paths=list(user.scope_paths()), memberships=memberships)
