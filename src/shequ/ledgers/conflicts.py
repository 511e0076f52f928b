"""Fact conflicts (信息冲突): two business lines disagree on a person's field; a worker decides.

The value in force stays on the person until someone resolves the conflict: "保留现值" keeps it,
"采用新值" writes the incoming value through ``registry.services.person_update`` with the incoming
fact's source, so the person's provenance names the line that supplied it. Both are audited. Values
are shown masked (QUALITY §5), each with the line that supplied it and when.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shequ.accounts.roles import Capability
from shequ.core import pii
from shequ.core.audit import audit_record
from shequ.core.errors import Conflict
from shequ.core.models import AuditAction
from shequ.core.scope import get_in_scope, restrict
from shequ.core.services import require_capability
from shequ.ledgers.choices import ConflictStatus
from shequ.ledgers.models import FactConflict
from shequ.registry import services as registry_services
from shequ.registry.choices import BusinessLine, ResidenceType, Sex
from shequ.registry.models import Person, PersonFact

EDIT = Capability.REGISTRY_EDIT
CONFLICT_ALREADY_RESOLVED = _("该冲突已被处理，请刷新页面。")
FIELD_LABELS = {
    "name": _("姓名"),
    "phone": _("联系电话"),
    "sex": _("性别"),
    "birth_date": _("出生日期"),
    "residence_type": _("人口类型"),
    "id_number": _("身份证号"),
}


def conflict_list(*, actor: Any, status: str = ConflictStatus.OPEN) -> QuerySet[FactConflict]:
    qs = restrict(FactConflict.objects.select_related("person", "incoming", "job"), actor, capability=EDIT)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("person_id", "field", "id")


def conflict_get(*, actor: Any, conflict_id: Any) -> FactConflict:
    return get_in_scope(FactConflict.objects.select_related("person", "incoming"), actor, capability=EDIT,
                        pk=conflict_id)


def mask_value(field: str, value: Any) -> str:
    """A field's value as it may be shown: masked personal data, labels for choices, never a birth date."""
    if value in (None, ""):
        return "—"
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    if field == "name":
        return pii.mask_name(text)
    if field == "phone":
        return pii.mask_phone(text)
    if field == "id_number":
        return pii.mask_id_number(text)
    if field == "birth_date":
        return f"{text[:4]}-**-**"
    if field == "sex":
        return str(dict(Sex.choices).get(text, text))
    if field == "residence_type":
        return str(dict(ResidenceType.choices).get(text, text))
    return text


def _fact_text(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value or "")


def conflict_rows(conflicts: list[FactConflict]) -> list[dict[str, Any]]:
    """What the conflicts page shows: per conflict the value in force and the incoming one, both masked,
    each with the line that supplied it and when."""
    people = {c.person_id for c in conflicts}
    fields = {c.field for c in conflicts}
    latest: dict[tuple[int, str, str], tuple[str, dt.datetime]] = {}
    facts = (PersonFact.objects.filter(person_id__in=people, field__in=fields)
             .order_by("supplied_at", "id").values_list("person_id", "field", "value_digest", "source", "supplied_at"))
    for person_id, field, digest, source, at in facts:
        latest[(person_id, field, digest)] = (source, at)
    labels = dict(BusinessLine.choices)
    rows = []
    for conflict in conflicts:
        person = conflict.person
        current = getattr(person, conflict.field, "")
        text = _fact_text(current)
        digest = pii.blind_index(text, purpose=f"fact:{conflict.field}") if text else ""
        source, at = latest.get((person.pk, conflict.field, digest), ("", None))
        incoming = conflict.incoming
        rows.append({
            "conflict": conflict,
            "person": person,
            "field_label": FIELD_LABELS.get(conflict.field, conflict.field),
            "current": mask_value(conflict.field, current),
            "current_source": labels.get(source, "—") if source else "—",
            "current_at": at,
            "incoming": mask_value(conflict.field, incoming.value),
            "incoming_source": labels.get(incoming.source, incoming.source),
            "incoming_at": incoming.supplied_at,
            "incoming_reference": incoming.reference,
        })
    return rows


def _python_value(field: str, text: str) -> Any:
    if field == "birth_date":
        return dt.date.fromisoformat(text)
    return text


@transaction.atomic
def conflict_resolve(*, actor: Any, conflict: FactConflict, keep_current: bool, note: str = "") -> FactConflict:
    """Keep the value in force (KEPT) or adopt the incoming one (REPLACED); a resolved one is a ``Conflict``."""
    require_capability(actor, conflict.scope_path, EDIT)
    conflict = FactConflict.objects.select_for_update().select_related("incoming", "person").get(pk=conflict.pk)
    if conflict.status != ConflictStatus.OPEN:
        raise Conflict(CONFLICT_ALREADY_RESOLVED)
    incoming = conflict.incoming
    person: Person = conflict.person
    if not keep_current:
        registry_services.person_update(
            actor=actor,
            person=person,
            source=incoming.source,
            reference=f"信息冲突#{conflict.pk}；{incoming.reference}"[:200],
            **{conflict.field: _python_value(conflict.field, incoming.value)},
        )
    conflict.status = ConflictStatus.KEPT if keep_current else ConflictStatus.REPLACED
    conflict.resolved_by = actor if actor is not None else None
    conflict.resolved_at = timezone.now()
    conflict.note = " ".join((note or "").split())[:200]
    conflict.save(update_fields=["status", "resolved_by", "resolved_at", "note", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=conflict,
        object_repr=f"{person.masked_name} · {FIELD_LABELS.get(conflict.field, conflict.field)}",
        reason=conflict.note,
        changes={"field": conflict.field, "status": conflict.status, "incoming_source": incoming.source},
    )
    return conflict
