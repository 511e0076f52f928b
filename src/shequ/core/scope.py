"""Data scope: every read is restricted to the subtrees of the actor's memberships.

A subtree is a range of code paths: every path below ``P`` starts with ``P``, and since paths are
digits, ``P <= path < P + ";"`` (``;`` sorts right after ``9``) is the same set as ``path LIKE 'P%'``.
The range form uses a plain B-tree index on SQLite and PostgreSQL alike, whatever the collation.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet

from shequ.core.errors import NotFound

M = TypeVar("M", bound=Model)
PATH_END = ";"


def subtree_q(path: str, *, field: str = "scope_path") -> Q:
    return Q(**{f"{field}__gte": path, f"{field}__lt": path + PATH_END})


def in_subtree(path: str, root: str) -> bool:
    return path.startswith(root)


def restrict(
    queryset: QuerySet[M], actor: Any, *, capability: str | None = None, field: str = "scope_path"
) -> QuerySet[M]:
    """The part of ``queryset`` the actor may see (with ``capability``, if given); deny by default."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not getattr(actor, "is_active", False):
        return queryset.none()
    paths = actor.scope_paths(capability)
    if not paths:
        return queryset.none()
    condition = Q()
    for path in paths:
        condition |= subtree_q(path, field=field)
    return queryset.filter(condition)


def get_in_scope(queryset: QuerySet[M], actor: Any, *, capability: str | None = None, **lookup: Any) -> M:
    """Load one object the actor may see; missing and out of scope raise the same ``NotFound``."""
    try:
        return restrict(queryset, actor, capability=capability).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound() from exc


def actor_can_at(actor: Any, path: str, capability: str) -> bool:
    """Whether the actor holds ``capability`` at a node whose subtree contains ``path``."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not getattr(actor, "is_active", False):
        return False
    return capability in actor.capabilities_at(path)
