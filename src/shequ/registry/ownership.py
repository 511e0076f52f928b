"""Ownership (产权) of dwelling units: the writes and the reads that owners' votes rest on.

An ``Ownership`` row says a person or an organisation owns a unit; co-owners are several rows of one
unit; the developer's unsold units are rows of an organisation of kind ``developer``. Ending an
ownership sets ``ended_on``: only current rows (``ended_on`` empty) form an electorate.

``compound_electorate`` turns the current rows into the electorate of an owners' vote under Civil
Code art. 278 and the SPC interpretation on building ownership arts. 8–9: each unit with its exclusive
floor area and its *owner key*, the set of its current co-owners (``"p12"``, ``"p12+p13"``, ``"o7"``).
Units with the same owner key count as one owner by headcount.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from shequ.accounts.roles import Capability
from shequ.core.audit import audit_record
from shequ.core.errors import ValidationFailed
from shequ.core.models import AuditAction
from shequ.core.scope import subtree_q
from shequ.core.services import require_capability
from shequ.registry.choices import PlaceKind
from shequ.registry.models import Organisation, Ownership, Person, Place

OWNERSHIP_UNIT_ONLY = _("产权只能登记在房屋（户）上。")
OWNERSHIP_ONE_OWNER = _("请指定业主：个人或单位，二者选一。")
OWNERSHIP_DUPLICATE = _("该业主已登记为此房屋的现业主。")
OWNERSHIP_ALREADY_ENDED = _("该产权已注销。")
OWNERSHIP_END_BEFORE_START = _("注销日期不能早于登记日期。")


def owner_key_of(owners: list[Ownership] | list[str]) -> str:
    """The owner key of a unit: its current owners' keys, sorted and joined by ``+``."""
    keys = [o if isinstance(o, str) else o.owner_key for o in owners]
    return "+".join(sorted(set(keys)))


# --- Writes ----------------------------------------------------------------------------------------


@transaction.atomic
def ownership_add(
    *,
    actor: Any,
    unit: Place,
    person: Person | None = None,
    organisation: Organisation | None = None,
    started_on: dt.date | None = None,
) -> Ownership:
    """Register a current owner of ``unit`` (a co-owner when the unit already has one)."""
    require_capability(actor, unit.path, Capability.REGISTRY_EDIT)
    if unit.kind != PlaceKind.UNIT:
        raise ValidationFailed({"unit": OWNERSHIP_UNIT_ONLY})
    if (person is None) == (organisation is None):
        raise ValidationFailed({"__all__": OWNERSHIP_ONE_OWNER})
    ownership = Ownership(unit=unit, person=person, organisation=organisation, started_on=started_on,
                          scope_path=unit.path)
    try:
        with transaction.atomic():
            ownership.save()
    except IntegrityError as exc:
        raise ValidationFailed({"__all__": OWNERSHIP_DUPLICATE}) from exc
    audit_record(actor=actor, action=AuditAction.CREATE, obj=ownership, scope_path=unit.path,
                 changes={"owner": ownership.owner_key, "started_on": str(started_on or "")})
    return ownership


@transaction.atomic
def ownership_end(*, actor: Any, ownership: Ownership, ended_on: dt.date) -> Ownership:
    """End an ownership (sale, inheritance…): the row is kept with ``ended_on`` set."""
    require_capability(actor, ownership.unit.path, Capability.REGISTRY_EDIT)
    locked = Ownership.objects.select_for_update().get(pk=ownership.pk)
    if locked.ended_on is not None:
        raise ValidationFailed({"ended_on": OWNERSHIP_ALREADY_ENDED})
    if locked.started_on and ended_on < locked.started_on:
        raise ValidationFailed({"ended_on": OWNERSHIP_END_BEFORE_START})
    locked.ended_on = ended_on
    locked.save(update_fields=["ended_on", "updated_at"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=locked, scope_path=locked.scope_path,
                 changes={"ended_on": {"old": None, "new": str(ended_on)}})
    ownership.ended_on = ended_on
    return locked


# --- Reads -----------------------------------------------------------------------------------------


def unit_owners(*, unit: Place) -> QuerySet[Ownership]:
    """The current owners of one unit (co-owners are several rows)."""
    return (Ownership.objects.filter(unit=unit, ended_on__isnull=True)
            .select_related("person", "organisation").order_by("id"))


@dataclass
class ElectorUnit:
    """One unit of an owners' electorate: its weight by area and the owner it counts for by head."""

    unit_id: int
    name: str
    area: Decimal | None
    area_source: str
    owner_key: str
    person_ids: list[int] = field(default_factory=list)
    organisation_ids: list[int] = field(default_factory=list)


@dataclass
class CompoundElectorate:
    units: list[ElectorUnit]
    missing_area: list[ElectorUnit]
    missing_owner: list[ElectorUnit]

    @property
    def complete(self) -> bool:
        return not self.missing_area and not self.missing_owner


def compound_units(*, compound: Place) -> QuerySet[Place]:
    return Place.objects.filter(subtree_q(compound.path, field="path"), kind=PlaceKind.UNIT).order_by("path")


def compound_electorate(*, compound: Place) -> CompoundElectorate:
    """The owners' electorate of a compound today: every unit with its area and owner key.

    The unit's area is its recorded exclusive floor area (``Place.floor_area``, whose ``area_source``
    says which document it comes from: register before survey before contract, SPC interpretation
    art. 8). Units without an area or without a current owner are listed apart: a vote cannot be
    weighed until they are fixed.
    """
    units = list(compound_units(compound=compound).only("id", "name", "path", "floor_area", "area_source"))
    owners: dict[int, list[Ownership]] = defaultdict(list)
    rows = Ownership.objects.filter(subtree_q(compound.path), ended_on__isnull=True)
    for row in rows.only("id", "unit_id", "person_id", "organisation_id").order_by("id"):
        owners[row.unit_id].append(row)
    entries, missing_area, missing_owner = [], [], []
    for unit in units:
        held = owners.get(unit.pk, [])
        entry = ElectorUnit(
            unit_id=unit.pk,
            name=unit.name,
            area=unit.floor_area,
            area_source=unit.area_source or "",
            owner_key=owner_key_of(held),
            person_ids=sorted({o.person_id for o in held if o.person_id}),
            organisation_ids=sorted({o.organisation_id for o in held if o.organisation_id}),
        )
        entries.append(entry)
        if unit.floor_area is None:
            missing_area.append(entry)
        if not held:
            missing_owner.append(entry)
    return CompoundElectorate(units=entries, missing_area=missing_area, missing_owner=missing_owner)
