"""Reads of accounts, scoped: a manager sees users who hold a role inside their subtree."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from shequ.accounts.models import ApiToken, Department, Membership, User
from shequ.accounts.roles import Capability
from shequ.core.errors import NotFound
from shequ.core.scope import restrict, subtree_q


def _manage_q(actor: Any, field: str) -> Q | None:
    paths = actor.scope_paths(Capability.ACCOUNTS_MANAGE) if actor and actor.is_authenticated else ()
    if not paths:
        return None
    condition = Q()
    for path in paths:
        condition |= subtree_q(path, field=field)
    return condition


def user_list(*, actor: Any, q: str = "", role: str = "") -> QuerySet[User]:
    """Users with an active membership inside the actor's managed subtrees (plus departments' users)."""
    condition = _manage_q(actor, "memberships__place__path")
    if condition is None:
        return User.objects.none()
    dept_condition = _manage_q(actor, "department__place__path")
    qs = User.objects.filter(condition | dept_condition)
    if role:
        qs = qs.filter(memberships__role=role, memberships__active=True)
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(display_name__icontains=q))
    return qs.distinct().order_by("username")


def user_get(*, actor: Any, user_id: Any) -> User:
    try:
        return user_list(actor=actor).get(pk=user_id)
    except (User.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound() from exc


def membership_list(*, actor: Any, user: User | None = None) -> QuerySet[Membership]:
    condition = _manage_q(actor, "place__path")
    if condition is None:
        return Membership.objects.none()
    qs = Membership.objects.filter(condition, active=True).select_related("user", "place", "granted_by")
    if user is not None:
        qs = qs.filter(user=user)
    return qs.order_by("place__path", "role")


def membership_get(*, actor: Any, membership_id: Any) -> Membership:
    try:
        return membership_list(actor=actor).get(pk=membership_id)
    except (Membership.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound() from exc


def department_list(*, actor: Any) -> QuerySet[Department]:
    return restrict(Department.objects.select_related("place"), actor, field="place__path").order_by("name")


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user, revoked=False).order_by("-created_at")
