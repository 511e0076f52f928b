"""Helpers every app's services use: permission at a node, validation, optimistic versions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Model
from django.utils.translation import gettext_lazy as _

from shequ.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from shequ.core.scope import actor_can_at

M = TypeVar("M", bound=Model)

FIELD_NOT_EDITABLE = _("该字段不可修改。")


def is_system(actor: Any) -> bool:
    """``None`` is the platform itself (seeding, imports run from the command line)."""
    return actor is None


def require_capability(actor: Any, path: str, capability: str) -> None:
    """Refuse unless the actor holds ``capability`` over ``path``.

    A node the actor cannot see at all answers ``NotFound`` (existence does not leak); a node they
    can see but not act on answers ``PermissionDenied``.
    """
    if is_system(actor):
        return
    if actor_can_at(actor, path, capability):
        return
    if any(path.startswith(p) for p in actor.scope_paths()):
        raise PermissionDenied()
    raise NotFound()


def full_clean(obj: Model, *, exclude: Iterable[str] | None = None) -> None:
    try:
        obj.full_clean(exclude=list(exclude) if exclude else None, validate_unique=True)
    except ValidationError as exc:
        raise ValidationFailed.from_django(exc) from exc


def check_version(obj: Any, version: int | None) -> None:
    """Optimistic concurrency: the caller states which version it edited; a stale one is refused."""
    if version is not None and int(version) != obj.version:
        raise Conflict()


def bump_version(obj: Any) -> None:
    obj.version = (obj.version or 0) + 1


def snapshot(obj: Model, fields: Iterable[str]) -> dict[str, Any]:
    return {f: getattr(obj, f) for f in fields}


def apply_changes(obj: Model, changes: dict[str, Any], *, editable: Iterable[str]) -> dict[str, Any]:
    """Set ``changes`` on ``obj``, refusing every field not in ``editable`` (protected fields such as the
    scope, the version or an owner can never be set this way); return the editable values before."""
    editable = tuple(editable)
    unknown = sorted(set(changes) - set(editable))
    if unknown:
        raise ValidationFailed({field: str(FIELD_NOT_EDITABLE) for field in unknown})
    before = snapshot(obj, editable)
    for field, value in changes.items():
        setattr(obj, field, value)
    return before


def changes_since(obj: Model, before: dict[str, Any], *, secret: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The audit diff between ``before`` (from ``apply_changes``) and the object now."""
    from shequ.core.audit import changed_fields

    return changed_fields(before, snapshot(obj, before), secret=secret)
