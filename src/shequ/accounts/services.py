"""Writes to accounts: users, memberships, API tokens. Each is audited."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shequ.accounts.models import ApiToken, Department, Membership, User
from shequ.accounts.roles import GRANTABLE_ROLES, ROLE_PLACE_KINDS, Capability, Role
from shequ.core.audit import audit_record
from shequ.core.errors import NotFound, PermissionDenied, ValidationFailed
from shequ.core.models import AuditAction
from shequ.core.services import full_clean, require_capability

USERNAME_TAKEN = _("用户名已被使用。")
ROLE_NOT_GRANTABLE = _("您不能授予“{role}”角色。")
ROLE_PLACE_KIND = _("“{role}”只能授予在{kinds}一级。")
MEMBERSHIP_EXISTS = _("该用户在此区域已有此角色。")
DEPARTMENT_REQUIRED = _("部门处置人员必须属于一个部门。")
TOKEN_PREFIX = "sq_"


def _grantable_roles(actor: Any, path: str) -> frozenset[str]:
    if actor is None:
        return frozenset(Role.values)
    roles: set[str] = set()
    for m in actor.active_memberships():
        if path.startswith(m.place.path):
            roles |= GRANTABLE_ROLES.get(m.role, frozenset())
    return frozenset(roles)


@transaction.atomic
def user_create(
    *,
    actor: Any,
    username: str,
    password: str,
    display_name: str = "",
    email: str = "",
    department: Department | None = None,
    person: Any = None,
    place: Any = None,
    role: str | None = None,
) -> User:
    """Create an account; with ``place`` and ``role`` its first membership is granted in the same change,
    so a manager never creates an account they then cannot see."""
    if actor is not None and not actor.has_capability(Capability.ACCOUNTS_MANAGE):
        raise PermissionDenied()
    username = (username or "").strip()
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationFailed({"username": str(USERNAME_TAKEN)})
    user = User(username=username, display_name=display_name.strip(), email=email, department=department, person=person)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationFailed({"password": exc.messages}) from exc
    user.set_password(password)
    full_clean(user, exclude=["password"])
    user.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=user,
        object_repr=user.username,
        scope_path=place.path if place is not None else (department.place.path if department else ""),
    )
    if place is not None and role:
        membership_grant(actor=actor, user=user, place=place, role=role)
    return user


def _require_managed(actor: Any, user: User) -> None:
    """The actor manages accounts where ``user`` holds a role (or is the user); else the user is not found."""
    if actor is None or actor.pk == user.pk:
        return
    from shequ.accounts.selectors import user_list

    if not actor.has_capability(Capability.ACCOUNTS_MANAGE):
        raise PermissionDenied()
    if not user_list(actor=actor).filter(pk=user.pk).exists():
        raise NotFound()


@transaction.atomic
def user_set_password(*, actor: Any, user: User, password: str) -> None:
    _require_managed(actor, user)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationFailed({"password": exc.messages}) from exc
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(
        actor=actor, action=AuditAction.UPDATE, obj=user, object_repr=user.username, changes={"password": "changed"}
    )


@transaction.atomic
def user_set_active(*, actor: Any, user: User, active: bool) -> User:
    if actor is not None and actor.pk == user.pk:
        raise PermissionDenied()
    _require_managed(actor, user)
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=user,
        object_repr=user.username,
        changes={"is_active": {"old": not active, "new": active}},
    )
    return user


@transaction.atomic
def membership_grant(*, actor: Any, user: User, place: Any, role: str) -> Membership:
    """Give ``user`` a role at ``place``; the actor must manage accounts there and may grant the role."""
    require_capability(actor, place.path, Capability.ACCOUNTS_MANAGE)
    if role not in _grantable_roles(actor, place.path):
        raise PermissionDenied(str(ROLE_NOT_GRANTABLE).format(role=Role(role).label))
    kinds = ROLE_PLACE_KINDS.get(role, frozenset())
    if place.kind not in kinds:
        from shequ.registry.choices import PlaceKind

        raise ValidationFailed(
            {
                "place": str(ROLE_PLACE_KIND).format(
                    role=Role(role).label, kinds="、".join(str(PlaceKind(k).label) for k in sorted(kinds))
                )
            }
        )
    if role == Role.DEPARTMENT_HANDLER and user.department_id is None:
        raise ValidationFailed({"user": str(DEPARTMENT_REQUIRED)})
    if Membership.objects.filter(user=user, place=place, role=role, active=True).exists():
        raise ValidationFailed({"role": str(MEMBERSHIP_EXISTS)})
    membership = Membership.objects.create(user=user, place=place, role=role, granted_by=actor)
    user.forget_memberships()
    audit_record(
        actor=actor,
        action=AuditAction.GRANT,
        obj=membership,
        scope_path=place.path,
        object_repr=f"{user.username} · {Role(role).label} · {place.name}",
    )
    return membership


@transaction.atomic
def membership_revoke(*, actor: Any, membership: Membership) -> None:
    require_capability(actor, membership.place.path, Capability.ACCOUNTS_MANAGE)
    if membership.role not in _grantable_roles(actor, membership.place.path):
        raise PermissionDenied(str(ROLE_NOT_GRANTABLE).format(role=Role(membership.role).label))
    Membership.objects.filter(pk=membership.pk).update(active=False)
    membership.user.forget_memberships()
    audit_record(
        actor=actor,
        action=AuditAction.REVOKE,
        obj=membership,
        scope_path=membership.place.path,
        object_repr=f"{membership.user.username} · {Role(membership.role).label} · {membership.place.name}",
    )


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, actor: Any, user: User, name: str, expires_at: Any = None) -> tuple[ApiToken, str]:
    """Create a token and return it in clear once; only its digest is stored."""
    if actor is not None and actor.pk != user.pk and not actor.has_capability(Capability.ACCOUNTS_MANAGE):
        raise NotFound()
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user, name=name.strip() or "api", prefix=raw[:10], digest=token_digest(raw), expires_at=expires_at
    )
    full_clean(token)
    token.save()
    audit_record(actor=actor, action=AuditAction.CREATE, obj=token, object_repr=f"{user.username} {token.prefix}…")
    return token, raw


@transaction.atomic
def api_token_revoke(*, actor: Any, token: ApiToken) -> None:
    if actor is not None and actor.pk != token.user_id and not actor.has_capability(Capability.ACCOUNTS_MANAGE):
        raise NotFound()
    ApiToken.objects.filter(pk=token.pk).update(revoked=True)
    audit_record(actor=actor, action=AuditAction.REVOKE, obj=token, object_repr=f"{token.prefix}…")


def api_token_authenticate(raw: str) -> User | None:
    """The active user a bearer token belongs to, or None; records when it was last used."""
    if not raw or not raw.startswith(TOKEN_PREFIX):
        return None
    token = ApiToken.objects.select_related("user").filter(digest=token_digest(raw), revoked=False).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.expires_at and token.expires_at <= now:
        return None
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 300:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


_NO_BEARER = object()


def api_token_user(request: Any) -> User | None:
    """The user of the request's ``Authorization: Bearer`` token, looked up once per request (the
    idempotency middleware and the API's authentication both ask)."""
    cached = getattr(request, "_shequ_bearer_user", _NO_BEARER)
    if cached is not _NO_BEARER:
        return cached  # type: ignore[return-value]
    scheme, _space, raw = request.headers.get("Authorization", "").partition(" ")
    user = api_token_authenticate(raw.strip()) if scheme.lower() == "bearer" else None
    request._shequ_bearer_user = user
    return user


@transaction.atomic
def department_create(*, actor: Any, place: Any, name: str, kind: str) -> Department:
    require_capability(actor, place.path, Capability.ACCOUNTS_MANAGE)
    dept = Department(place=place, name=name.strip(), kind=kind)
    full_clean(dept)
    dept.save()
    audit_record(actor=actor, action=AuditAction.CREATE, obj=dept, scope_path=place.path)
    return dept


EMAIL_INVALID = _("请输入有效的电子邮箱地址，例如 name@example.com。")


@transaction.atomic
def user_set_email(*, actor: Any, user: User, email: str) -> User:
    """Set or clear (empty ``email``) the address the user's notifications are mailed to (邮件提醒).

    Only the user themselves: anyone else gets "not found". The audit row names the change, never the
    address (personal data).
    """
    if actor is None or actor.pk != user.pk:
        raise NotFound()
    email = (email or "").strip()
    if email:
        max_length = User._meta.get_field("email").max_length or 254
        try:
            if len(email) > max_length:
                raise ValidationError(EMAIL_INVALID)
            EmailValidator(message=EMAIL_INVALID)(email)
        except ValidationError as exc:
            raise ValidationFailed({"email": str(EMAIL_INVALID)}) from exc
    if email == user.email:
        return user
    change = "cleared" if not email else ("set" if not user.email else "changed")
    user.email = email
    user.save(update_fields=["email"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=user, object_repr=user.username, changes={"email": change})
    return user
