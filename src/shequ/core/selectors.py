"""Reads of the shared kernel: the audit trail, scoped to the actor's subtree."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from shequ.accounts.roles import Capability, Role
from shequ.core.models import AuditEntry
from shequ.core.scope import restrict


def audit_sees_unscoped(actor: Any) -> bool:
    """District administrators also see entries that belong to no node (sign-ins, accounts, vocabulary)."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not getattr(actor, "is_active", False):
        return False
    return Role.DISTRICT_ADMIN in actor.roles()


def audit_list(
    *,
    actor: Any,
    action: str | None = None,
    object_type: str | None = None,
    actor_name: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> QuerySet[AuditEntry]:
    """Audit entries whose node is within the actor's subtree, newest first; dates are inclusive."""
    qs = restrict(AuditEntry.objects.all(), actor, capability=Capability.AUDIT_VIEW)
    if audit_sees_unscoped(actor):
        qs = qs | AuditEntry.objects.filter(scope_path="")
    if action:
        qs = qs.filter(action=action)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if actor_name:
        name = actor_name.strip()
        qs = qs.filter(Q(actor_name__icontains=name) | Q(actor__display_name__icontains=name))
    tz = timezone.get_current_timezone()
    if since:
        qs = qs.filter(at__gte=dt.datetime.combine(since, dt.time.min, tzinfo=tz))
    if until:
        qs = qs.filter(at__lt=dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=tz))
    return qs.select_related("actor").order_by("-at", "-id")


def audit_object_types(*, actor: Any) -> list[str]:
    """The object types present in what the actor may see, for the filter's choices."""
    return sorted(set(audit_list(actor=actor).order_by().values_list("object_type", flat=True).distinct()))
