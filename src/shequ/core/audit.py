"""Writing to and checking the append-only audit trail (审计日志).

Every service that creates, changes or deletes a record, reveals personal data or exports it calls
``audit_record`` inside its own transaction, so the trail row and the change commit or roll back
together. Values of personal-data fields never enter ``changes``: only the names of changed fields.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from shequ.core.middleware import current_client_ip, current_request_id
from shequ.core.models import AuditAction, AuditChainHead, AuditEntry


def _digest(entry: AuditEntry) -> str:
    payload = {
        "at": entry.at.isoformat(),
        "actor": entry.actor_id,
        "actor_name": entry.actor_name,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object_repr": entry.object_repr,
        "field": entry.field,
        "reason": entry.reason,
        "outcome": entry.outcome,
        "changes": entry.changes,
        "scope_path": entry.scope_path,
        "chain": entry.chain,
        "request_id": entry.request_id,
        "ip": entry.ip,
        "prev": entry.prev_hash,
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def chain_for(scope_path: str) -> str:
    """One chain per street keeps appends of different streets from queueing on one lock."""
    return scope_path[:9] if len(scope_path) >= 9 else "global"


def _locked_head(chain: str) -> AuditChainHead:
    """The chain's head row, locked until the caller's transaction ends. The head exists after a
    street's first entry, so the usual path is one ``SELECT … FOR UPDATE`` with no savepoint."""
    head = AuditChainHead.objects.select_for_update().filter(chain=chain).first()
    if head is None:  # get_or_create's own savepoint covers a concurrent first entry
        head, _created = AuditChainHead.objects.select_for_update().get_or_create(chain=chain)
    return head


def audit_record(
    *,
    actor: Any,
    action: str | AuditAction,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    object_repr: str = "",
    scope_path: str = "",
    field: str = "",
    reason: str = "",
    outcome: str = "success",
    changes: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one row to the audit trail; must run inside the caller's transaction."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        if not object_repr:
            object_repr = str(getattr(obj, "audit_repr", None) or obj)
        scope_path = scope_path or getattr(obj, "scope_path", "") or ""
    chain = chain_for(scope_path)
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    with transaction.atomic(savepoint=False):
        head = _locked_head(chain)
        entry = AuditEntry(
            at=timezone.now(),
            actor=actor if is_user else None,
            actor_name=actor.get_username() if is_user else "",
            action=str(action),
            object_type=object_type,
            object_id=str(object_id),
            object_repr=object_repr[:200],
            field=field,
            reason=reason,
            outcome=outcome,
            changes=dict(changes or {}),
            scope_path=scope_path,
            chain=chain,
            request_id=current_request_id(),
            ip=current_client_ip(),
            prev_hash=head.last_hash,
        )
        entry.hash = _digest(entry)
        entry.save()
        AuditChainHead.objects.filter(pk=head.pk).update(last_hash=entry.hash, count=models.F("count") + 1)
    return entry


def audit_verify(*, chain: str | None = None) -> list[str]:
    """Re-hash every chain (or one) in order; return a description of each break found."""
    problems: list[str] = []
    chains = [chain] if chain else list(AuditChainHead.objects.values_list("chain", flat=True))
    for name in chains:
        prev = ""
        count = 0
        for entry in AuditEntry.objects.filter(chain=name).order_by("id").iterator(chunk_size=2000):
            count += 1
            if entry.prev_hash != prev:
                problems.append(f"chain {name}: entry {entry.pk} does not follow the previous entry")
            if _digest(entry) != entry.hash:
                problems.append(f"chain {name}: entry {entry.pk} was altered")
            prev = entry.hash
        head = AuditChainHead.objects.filter(chain=name).first()
        if head and (head.last_hash != prev or head.count != count):
            problems.append(f"chain {name}: entries missing at the end (expected {head.count}, found {count})")
    return problems


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any], *, secret: frozenset[str]) -> dict:
    """The diff for ``changes``: old and new values, except personal-data fields, named only."""
    diff: dict[str, Any] = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        diff[key] = "changed" if key in secret else {"old": _plain(old), "new": _plain(new)}
    return diff


def _plain(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    return str(value)
