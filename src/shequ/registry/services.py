"""Every write to the registry: validation, permission at the node, transaction, audit.

Views, the API, the seed generator and imports call these and nothing else to change registry
records. ``actor=None`` is the platform itself (seed and command-line imports); the audit row then
has no actor.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shequ.accounts.roles import Capability
from shequ.core import pii
from shequ.core.audit import audit_record, changed_fields
from shequ.core.errors import NotFound, ValidationFailed
from shequ.core.models import AuditAction
from shequ.core.services import (
    FIELD_NOT_EDITABLE,
    apply_changes,
    bump_version,
    changes_since,
    check_version,
    full_clean,
    require_capability,
)
from shequ.registry import geo
from shequ.registry.choices import (
    PLACE_CHILD_KIND,
    PLACE_CODE_WIDTHS,
    BusinessLine,
    PlaceKind,
    Relation,
)
from shequ.registry.models import (
    CareTag,
    Facility,
    Grid,
    GridMember,
    Household,
    Organisation,
    Person,
    PersonFact,
    PersonTag,
    Place,
)
from shequ.registry.validators import validate_uscc

PLACE_KIND_NOT_ALLOWED = _("“{parent}”下只能新增{kind}。")
PLACE_CODE_FORMAT = _("编码应为{width}位数字。")
PLACE_CODE_TAKEN = _("编码 {code} 已被使用。")
PLACE_HAS_CHILDREN = _("该区域下还有下级区域、人员或住户，不能删除。")
UNIT_REQUIRED = _("住户必须对应到具体的房屋（户）。")
HOUSEHOLD_PLACE_MISMATCH = _("人员居住地必须与所在住户的房屋一致。")
RELATION_REQUIRED = _("加入住户时必须填写与户主关系。")
ONE_HEAD_ONLY = _("该住户已有户主“{name}”。")
ID_NUMBER_TAKEN = _("该身份证号已在册，请勿重复登记；如需合并请使用台账导入的查重功能。")
NAME_REQUIRED = _("请填写姓名。")
NAME_INVALID = _("姓名只能包含汉字、字母、间隔号“·”和空格，最长50个字符。")
UNKNOWN_TAG = _("未知的关爱标签：{slug}。")
REVEAL_REASON_REQUIRED = _("请填写查看事由（至少4个字）。")
REVEAL_FIELD_UNKNOWN = _("该字段不支持查看明文。")
REVEAL_EMPTY = _("该字段未登记。")
GRID_COMMUNITY_ONLY = _("网格只能划设在居村下。")
USCC_REQUIRED = _("驻区单位和社会组织须填写统一社会信用代码。")
USCC_TAKEN = _("统一社会信用代码 {code} 已登记。")
FACILITY_PLACE = _("设施只能登记在街镇、居村或小区下。")
AREA_POSITIVE = _("面积必须大于0。")

PERSON_FIELDS = (
    "name",
    "id_number",
    "sex",
    "birth_date",
    "phone",
    "residence_type",
    "status",
    "place_id",
    "household_id",
    "relation",
    "notes",
)
PERSON_SECRET_FIELDS = frozenset({"id_number", "phone", "name"})
REVEALABLE = {"id_number", "phone", "name"}
MIN_REASON_LENGTH = 4


# --- Places ----------------------------------------------------------------------------------------


def _next_child_code(parent: Place, kind: str) -> str:
    width = PLACE_CODE_WIDTHS[kind]
    last = Place.objects.filter(parent=parent, kind=kind).order_by("-path").values_list("path", flat=True).first()
    number = int(last[-width:]) + 1 if last else 1
    return f"{number:0{width}d}"


@transaction.atomic
def place_create(
    *,
    actor: Any,
    parent: Place | None,
    kind: str,
    name: str,
    code: str | None = None,
    geometry: Mapping[str, Any] | None = None,
    lon: float | None = None,
    lat: float | None = None,
    address: str = "",
    compound_type: str = "",
    floors: int | None = None,
    floor_area: Decimal | None = None,
    area_source: str = "",
    audit: bool = True,
) -> Place:
    """Add a node below ``parent``; ``code`` is this level's own digits (next free one if omitted)."""
    if parent is None:
        if kind != PlaceKind.DISTRICT or actor is not None:
            raise NotFound()
        path = code or ""
        if not (path.isdigit() and len(path) == PLACE_CODE_WIDTHS[kind]):
            raise ValidationFailed({"code": str(PLACE_CODE_FORMAT).format(width=PLACE_CODE_WIDTHS[kind])})
    else:
        require_capability(actor, parent.path, Capability.REGISTRY_EDIT)
        if PLACE_CHILD_KIND.get(parent.kind) != kind:
            child = PlaceKind(PLACE_CHILD_KIND[parent.kind]).label if parent.kind in PLACE_CHILD_KIND else "-"
            raise ValidationFailed({"kind": str(PLACE_KIND_NOT_ALLOWED).format(parent=parent.name, kind=child)})
        width = PLACE_CODE_WIDTHS[kind]
        own = code if code is not None else _next_child_code(parent, kind)
        if not (own.isdigit() and len(own) == width):
            raise ValidationFailed({"code": str(PLACE_CODE_FORMAT).format(width=width)})
        path = parent.path + own
    if Place.objects.filter(path=path).exists():
        raise ValidationFailed({"code": str(PLACE_CODE_TAKEN).format(code=path)})
    place = Place(
        kind=kind,
        parent=parent,
        path=path,
        name=(name or "").strip(),
        address=address,
        compound_type=compound_type,
        floors=floors,
        floor_area=floor_area,
        area_source=area_source,
        lon=lon,
        lat=lat,
    )
    _apply_place_geometry(place, geometry)
    place.set_scope(path)
    full_clean(place)
    place.save()
    if audit:
        audit_record(actor=actor, action=AuditAction.CREATE, obj=place)
    return place


def _apply_place_geometry(place: Place, geometry: Mapping[str, Any] | None) -> None:
    if geometry is None:
        return
    if geometry.get("type") == "Point":
        coords = geometry.get("coordinates") or []
        try:
            lon, lat = (float(c) for c in coords)
            if not (math.isfinite(lon) and math.isfinite(lat)):
                raise ValueError(lon, lat)
        except (TypeError, ValueError) as exc:  # not a pair of finite numbers
            raise ValidationFailed({"geometry": str(geo.GEOMETRY_INVALID)}) from exc
        place.geometry = {"type": "Point", "coordinates": [lon, lat]}
        place.lon, place.lat = lon, lat
        return
    try:
        shape = geo.parse_area(geometry)
    except ValueError as exc:
        raise ValidationFailed({"geometry": str(exc)}) from exc
    place.geometry = geo.to_geojson(shape)
    if place.lon is None or place.lat is None:
        place.lon, place.lat = geo.centroid(shape)


PLACE_EDITABLE = ("name", "address", "compound_type", "floors", "floor_area", "area_source", "lon", "lat")


@transaction.atomic
def place_update(*, actor: Any, place: Place, version: int | None = None, **changes: Any) -> Place:
    require_capability(actor, place.path, Capability.REGISTRY_EDIT)
    place = Place.objects.select_for_update().get(pk=place.pk)
    check_version(place, version)
    geometry = changes.pop("geometry", None)
    before = apply_changes(place, changes, editable=PLACE_EDITABLE)
    _apply_place_geometry(place, geometry)
    full_clean(place)
    bump_version(place)
    place.save()
    diff = changes_since(place, before)
    if geometry is not None:
        diff["geometry"] = "changed"
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=place, changes=diff)
    return place


# --- Grids ------------------------------------------------------------------------------------------


def _check_grid_geometry(community: Place, geometry: Any, *, exclude_pk: int | None = None) -> dict[str, Any]:
    try:
        shape = geo.parse_area(geometry)
    except ValueError as exc:
        raise ValidationFailed({"geometry": str(exc)}) from exc
    others = Grid.objects.filter(community=community).exclude(pk=exclude_pk).only("name", "geometry")
    for other in others:
        if geo.overlaps(shape, geo.parse_area(other.geometry)):
            raise ValidationFailed({"geometry": str(geo.GRID_OVERLAP).format(name=other.name)})
    return geo.to_geojson(shape)


@transaction.atomic
def grid_create(
    *, actor: Any, community: Place, name: str, geometry: Any, code: str | None = None, audit: bool = True
) -> Grid:
    require_capability(actor, community.path, Capability.REGISTRY_EDIT)
    if community.kind != PlaceKind.COMMUNITY:
        raise ValidationFailed({"community": str(GRID_COMMUNITY_ONLY)})
    if code is None:
        code = f"{community.path}G{Grid.objects.filter(community=community).count() + 1:02d}"
    grid = Grid(
        community=community, name=(name or "").strip(), code=code, geometry=_check_grid_geometry(community, geometry)
    )
    grid.set_scope(community.path)
    full_clean(grid)
    grid.save()
    if audit:
        audit_record(actor=actor, action=AuditAction.CREATE, obj=grid)
    return grid


@transaction.atomic
def grid_update(
    *, actor: Any, grid: Grid, version: int | None = None, name: str | None = None, geometry: Any = None
) -> Grid:
    require_capability(actor, grid.scope_path, Capability.REGISTRY_EDIT)
    grid = Grid.objects.select_for_update().get(pk=grid.pk)
    check_version(grid, version)
    diff: dict[str, Any] = {}
    if name is not None and name.strip() != grid.name:
        diff["name"] = {"old": grid.name, "new": name.strip()}
        grid.name = name.strip()
    if geometry is not None:
        grid.geometry = _check_grid_geometry(grid.community, geometry, exclude_pk=grid.pk)
        diff["geometry"] = "changed"
    full_clean(grid)
    bump_version(grid)
    grid.save()
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=grid, changes=diff)
    return grid


@transaction.atomic
def grid_member_add(
    *, actor: Any, grid: Grid, name: str, duty: str, user: Any = None, phone: str = "", audit: bool = True
) -> GridMember:
    require_capability(actor, grid.scope_path, Capability.REGISTRY_EDIT)
    if phone:
        try:
            phone = pii.normalise_phone(phone)
        except pii.PiiError as exc:
            raise ValidationFailed({"phone": str(exc.message)}) from exc
    member = GridMember(grid=grid, name=(name or "").strip(), duty=duty, user=user, phone=phone)
    full_clean(member)
    member.save()
    if audit:
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=member,
            scope_path=grid.scope_path,
            object_repr=f"{grid.name} · {member.get_duty_display()}",
        )
    return member


@transaction.atomic
def grid_member_remove(*, actor: Any, member: GridMember) -> None:
    require_capability(actor, member.grid.scope_path, Capability.REGISTRY_EDIT)
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        obj=member,
        scope_path=member.grid.scope_path,
        object_repr=f"{member.grid.name} · {member.get_duty_display()}",
    )
    member.delete()


# --- Facilities ---------------------------------------------------------------------------------------

FACILITY_FIELDS = ("name", "kind", "address", "lon", "lat", "floor_area", "construction", "opened_on")


@transaction.atomic
def facility_create(*, actor: Any, place: Place, audit: bool = True, **fields: Any) -> Facility:
    require_capability(actor, place.path, Capability.REGISTRY_EDIT)
    if place.kind not in {PlaceKind.STREET, PlaceKind.COMMUNITY, PlaceKind.COMPOUND}:
        raise ValidationFailed({"place": str(FACILITY_PLACE)})
    unknown = set(fields) - set(FACILITY_FIELDS)
    if unknown:
        raise ValidationFailed({f: _("未知字段。") for f in unknown})
    facility = Facility(place=place, **fields)
    facility.set_scope(place.path)
    full_clean(facility)
    facility.save()
    if audit:
        audit_record(actor=actor, action=AuditAction.CREATE, obj=facility)
    return facility


@transaction.atomic
def facility_update(*, actor: Any, facility: Facility, version: int | None = None, **changes: Any) -> Facility:
    require_capability(actor, facility.scope_path, Capability.REGISTRY_EDIT)
    facility = Facility.objects.select_for_update().get(pk=facility.pk)
    check_version(facility, version)
    before = apply_changes(facility, changes, editable=FACILITY_FIELDS)
    full_clean(facility)
    bump_version(facility)
    facility.save()
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=facility, changes=changes_since(facility, before))
    return facility


# --- Care tags (vocabulary) -----------------------------------------------------------------------


@transaction.atomic
def caretag_create(
    *, actor: Any, slug: str, name: str, sensitive: bool = False, description: str = "", sort: int = 100
) -> CareTag:
    _require_vocabulary(actor)
    tag = CareTag(slug=slug, name=name.strip(), sensitive=sensitive, description=description, sort=sort)
    full_clean(tag)
    tag.save()
    audit_record(actor=actor, action=AuditAction.CREATE, obj=tag)
    return tag


@transaction.atomic
def caretag_update(*, actor: Any, tag: CareTag, **changes: Any) -> CareTag:
    _require_vocabulary(actor)
    # The slug is what stored tags are hashed from: it never changes.
    before = apply_changes(tag, changes, editable=("name", "sensitive", "description", "active", "sort"))
    full_clean(tag)
    tag.save()
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=tag, changes=changes_since(tag, before))
    return tag


def _require_vocabulary(actor: Any) -> None:
    if actor is None:
        return
    if not actor.has_capability(Capability.VOCABULARY_EDIT):
        from shequ.core.errors import PermissionDenied

        raise PermissionDenied()


# --- Households --------------------------------------------------------------------------------------


@transaction.atomic
def household_create(*, actor: Any, unit: Place, number: str = "", audit: bool = True) -> Household:
    require_capability(actor, unit.path, Capability.REGISTRY_EDIT)
    if unit.kind != PlaceKind.UNIT:
        raise ValidationFailed({"unit": str(UNIT_REQUIRED)})
    household = Household(unit=unit, number=number)
    household.set_scope(unit.path)
    full_clean(household)
    household.save()
    if audit:
        audit_record(actor=actor, action=AuditAction.CREATE, obj=household)
    return household


# --- People --------------------------------------------------------------------------------------------


def clean_person_values(values: dict[str, Any], *, existing: Person | None) -> dict[str, Any]:
    """Normalise and cross-check name, ID number, birth date, sex and phone; collect every error."""
    errors: dict[str, list[str]] = {}
    if "name" in values:
        name = " ".join(str(values["name"] or "").split())
        if not name:
            errors.setdefault("name", []).append(str(NAME_REQUIRED))
        elif len(name) > 50 or not all(ch.isalpha() or ch in "·• " for ch in name):
            errors.setdefault("name", []).append(str(NAME_INVALID))
        values["name"] = name.replace("•", "·")
    if "phone" in values and values["phone"]:
        try:
            values["phone"] = pii.normalise_phone(str(values["phone"]))
        except pii.PiiError as exc:
            errors.setdefault("phone", []).append(str(exc.message))
    if "id_number" in values and values["id_number"]:
        try:
            facts = pii.parse_id_number(str(values["id_number"]))
        except pii.PiiError as exc:
            errors.setdefault("id_number", []).append(str(exc.message))
        else:
            values["id_number"] = pii.normalise_id_number(str(values["id_number"]))
            birth = values.get("birth_date", existing.birth_date if existing and "id_number" not in values else None)
            if birth and birth != facts.birth_date:
                errors.setdefault("birth_date", []).append(str(pii.ID_NUMBER_BIRTH_MISMATCH))
            sex = values.get("sex")
            if sex and sex != facts.sex:
                errors.setdefault("sex", []).append(str(pii.ID_NUMBER_SEX_MISMATCH))
            values.setdefault("birth_date", facts.birth_date)
            values["birth_date"] = values["birth_date"] or facts.birth_date
            values["sex"] = values.get("sex") or facts.sex
    if isinstance(values.get("birth_date"), dt.date) and values["birth_date"] > dt.date.today():
        errors.setdefault("birth_date", []).append(str(_("出生日期不能晚于今天。")))
    if errors:
        raise ValidationFailed(errors)
    return values


def _check_household(place: Place, household: Household | None, relation: str, *, person: Person | None) -> None:
    if household is None:
        return
    errors: dict[str, str] = {}
    if household.unit_id != place.pk:
        errors["household"] = str(HOUSEHOLD_PLACE_MISMATCH)
    if not relation:
        errors["relation"] = str(RELATION_REQUIRED)
    elif relation == Relation.HEAD:
        head = (
            Person.objects.filter(household=household, relation=Relation.HEAD)
            .exclude(pk=person.pk if person else None)
            .first()
        )
        if head:
            errors["relation"] = str(ONE_HEAD_ONLY).format(name=head.masked_name)
    if errors:
        raise ValidationFailed(errors)


def record_facts(
    person: Person, values: Mapping[str, Any], *, source: str, actor: Any, reference: str, at: dt.datetime
) -> None:
    facts = []
    for field in ("name", "id_number", "phone", "sex", "birth_date", "residence_type"):
        if field in values and values[field] not in (None, ""):
            value = str(values[field])
            facts.append(
                PersonFact(
                    person=person,
                    field=field,
                    value=value,
                    value_digest=pii.blind_index(value, purpose=f"fact:{field}"),
                    source=source,
                    supplied_at=at,
                    recorded_by=actor if actor is not None else None,
                    reference=reference,
                )
            )
    PersonFact.objects.bulk_create(facts)


def tag_digests(slugs: Iterable[str]) -> list[str]:
    slugs = list(dict.fromkeys(slugs))
    known = set(CareTag.objects.filter(slug__in=slugs, active=True).values_list("slug", flat=True))
    unknown = [s for s in slugs if s not in known]
    if unknown:
        raise ValidationFailed({"tags": str(UNKNOWN_TAG).format(slug="、".join(unknown))})
    return [pii.blind_index(s, purpose="tag") for s in slugs]


@transaction.atomic
def person_create(
    *,
    actor: Any,
    place: Place,
    name: str,
    residence_type: str,
    id_number: str = "",
    phone: str = "",
    sex: str = "",
    birth_date: dt.date | None = None,
    household: Household | None = None,
    relation: str = "",
    notes: str = "",
    tags: Iterable[str] = (),
    source: str = BusinessLine.COMMUNITY,
    reference: str = "",
    audit: bool = True,
) -> Person:
    """Register a person at ``place`` (a unit, or a compound/community when the dwelling is unknown)."""
    require_capability(actor, place.path, Capability.REGISTRY_EDIT)
    values = clean_person_values(
        {"name": name, "id_number": id_number, "phone": phone, "sex": sex, "birth_date": birth_date},
        existing=None,
    )
    _check_household(place, household, relation, person=None)
    person = Person(
        place=place,
        residence_type=residence_type,
        household=household,
        relation=relation if household else "",
        notes=notes,
        **values,
    )
    set_person_digests(person)
    person.set_scope(place.path)
    full_clean(person, exclude=["id_number_digest"])
    digests = tag_digests(tags)
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError as exc:
        raise ValidationFailed({"id_number": str(ID_NUMBER_TAKEN)}) from exc
    PersonTag.objects.bulk_create(PersonTag(person=person, tag_digest=d, source=source) for d in digests)
    if household is not None and relation == Relation.HEAD:
        Household.objects.filter(pk=household.pk).update(head=person)
    record_facts(
        person,
        {**values, "residence_type": residence_type},
        source=source,
        actor=actor,
        reference=reference,
        at=timezone.now(),
    )
    if audit:
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=person,
            changes={"fields": sorted(k for k, v in values.items() if v), "source": source},
        )
    return person


def set_person_digests(person: Person) -> None:
    person.id_number_digest = pii.blind_index(person.id_number, purpose="id") if person.id_number else None
    person.phone_digest = pii.blind_index(person.phone, purpose="phone") if person.phone else ""


PERSON_EDITABLE = frozenset(
    {
        "name",
        "id_number",
        "phone",
        "sex",
        "birth_date",
        "residence_type",
        "status",
        "place",
        "household",
        "relation",
        "notes",
    }
)


@transaction.atomic
def person_update(
    *,
    actor: Any,
    person: Person,
    version: int | None = None,
    source: str = BusinessLine.COMMUNITY,
    reference: str = "",
    **changes: Any,
) -> Person:
    require_capability(actor, person.scope_path, Capability.REGISTRY_EDIT)
    unknown = set(changes) - PERSON_EDITABLE
    if unknown:
        raise ValidationFailed({f: str(FIELD_NOT_EDITABLE) for f in sorted(unknown)})
    person = Person.objects.select_for_update().get(pk=person.pk)
    check_version(person, version)
    before = {f: getattr(person, f) for f in PERSON_FIELDS}
    pii_values = {k: changes.pop(k) for k in ("name", "id_number", "phone", "sex", "birth_date") if k in changes}
    if "id_number" not in pii_values and person.id_number and ("birth_date" in pii_values or "sex" in pii_values):
        pii_values["id_number"] = person.id_number  # re-check the ID number against the new values
    pii_values = clean_person_values(pii_values, existing=person)
    place = changes.pop("place", person.place)
    if place.pk != person.place_id:
        require_capability(actor, place.path, Capability.REGISTRY_EDIT)
    household = changes.pop("household", person.household)
    relation = changes.pop("relation", person.relation)
    _check_household(place, household, relation, person=person)
    if "status" in changes and changes["status"] != person.status:
        person.status_changed_at = timezone.now()
    for field, value in {**pii_values, **changes}.items():
        setattr(person, field, value)
    person.place, person.household, person.relation = place, household, relation if household else ""
    person.set_scope(place.path)
    set_person_digests(person)
    full_clean(person, exclude=["id_number_digest"])
    bump_version(person)
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError as exc:
        raise ValidationFailed({"id_number": str(ID_NUMBER_TAKEN)}) from exc
    if household is not None and relation == Relation.HEAD:
        Household.objects.filter(pk=household.pk).update(head=person)
    after = {f: getattr(person, f) for f in PERSON_FIELDS}
    changed = {k: after[k] for k in after if after[k] != before[k]}
    record_facts(person, changed, source=source, actor=actor, reference=reference, at=timezone.now())
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=person,
        changes=changed_fields(before, after, secret=PERSON_SECRET_FIELDS),
    )
    return person


@transaction.atomic
def person_set_tags(
    *, actor: Any, person: Person, tags: Iterable[str], source: str = BusinessLine.COMMUNITY
) -> list[str]:
    """Replace a person's care tags; returns the slugs now set."""
    require_capability(actor, person.scope_path, Capability.REGISTRY_EDIT)
    slugs = list(dict.fromkeys(tags))
    wanted = dict(zip(tag_digests(slugs), slugs, strict=True))
    current = set(PersonTag.objects.filter(person=person).values_list("tag_digest", flat=True))
    PersonTag.objects.filter(person=person).exclude(tag_digest__in=wanted).delete()
    PersonTag.objects.bulk_create(
        PersonTag(person=person, tag_digest=d, source=source) for d in wanted if d not in current
    )
    by_digest = {t.digest: t.slug for t in CareTag.objects.all()}
    removed = sorted(by_digest.get(d, "?") for d in current - set(wanted))
    added = sorted(s for d, s in wanted.items() if d not in current)
    if added or removed:
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=person,
            changes={"tags": {"added": added, "removed": removed}, "source": source},
        )
    return slugs


@transaction.atomic
def person_reveal(*, actor: Any, person: Person, field: str, reason: str) -> str:
    """Show one personal-data field in clear, for a stated reason, and write it to the audit trail."""
    require_capability(actor, person.scope_path, Capability.PII_REVEAL)
    if field not in REVEALABLE:
        raise ValidationFailed({"field": str(REVEAL_FIELD_UNKNOWN)})
    reason = " ".join((reason or "").split())
    if len(reason) < MIN_REASON_LENGTH:
        raise ValidationFailed({"reason": str(REVEAL_REASON_REQUIRED)})
    value = getattr(person, field)
    if not value:
        raise ValidationFailed({"field": str(REVEAL_EMPTY)})
    audit_record(actor=actor, action=AuditAction.REVEAL, obj=person, field=field, reason=reason)
    return value


# --- Organisations -------------------------------------------------------------------------------------

ORGANISATION_FIELDS = (
    "kind",
    "name",
    "registration_number",
    "address",
    "contact_name",
    "contact_phone",
    "notes",
    "active",
)
NEEDS_USCC = frozenset({"resident_unit", "social_organisation", "property_company"})


def _clean_organisation(org: Organisation) -> None:
    errors: dict[str, str] = {}
    org.name = " ".join((org.name or "").split())
    org.registration_number = (org.registration_number or "").strip().upper()
    if org.registration_number:
        problem = validate_uscc(org.registration_number)
        if problem:
            errors["registration_number"] = problem
        elif Organisation.objects.filter(registration_number=org.registration_number).exclude(pk=org.pk).exists():
            errors["registration_number"] = str(USCC_TAKEN).format(code=org.registration_number)
    elif org.kind in NEEDS_USCC:
        errors["registration_number"] = str(USCC_REQUIRED)
    if org.contact_phone:
        try:
            org.contact_phone = pii.normalise_phone(org.contact_phone)
        except pii.PiiError as exc:
            errors["contact_phone"] = str(exc.message)
    if errors:
        raise ValidationFailed(errors)
    full_clean(org)


@transaction.atomic
def organisation_create(*, actor: Any, place: Place, audit: bool = True, **fields: Any) -> Organisation:
    require_capability(actor, place.path, Capability.ORGANISATION_EDIT)
    unknown = set(fields) - set(ORGANISATION_FIELDS)
    if unknown:
        raise ValidationFailed({f: _("未知字段。") for f in unknown})
    org = Organisation(place=place, **fields)
    org.set_scope(place.path)
    _clean_organisation(org)
    org.save()
    if audit:
        audit_record(actor=actor, action=AuditAction.CREATE, obj=org)
    return org


@transaction.atomic
def organisation_update(
    *, actor: Any, organisation: Organisation, version: int | None = None, **changes: Any
) -> Organisation:
    require_capability(actor, organisation.scope_path, Capability.ORGANISATION_EDIT)
    org = Organisation.objects.select_for_update().get(pk=organisation.pk)
    check_version(org, version)
    before = apply_changes(org, changes, editable=ORGANISATION_FIELDS)
    _clean_organisation(org)
    bump_version(org)
    org.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=org,
        changes=changes_since(org, before, secret=frozenset({"contact_phone"})),
    )
    return org


# --- A resident's own data (PIPL art. 45) ---------------------------------------------------------------

NO_LINKED_PERSON = _("您的账号尚未关联居民档案，请联系居委会。")


@transaction.atomic
def person_export_own(*, actor: Any) -> dict[str, Any]:
    """Everything the registry holds on the signed-in resident, unmasked (it is their own), audited."""
    person = getattr(actor, "person", None) if actor is not None and actor.is_authenticated else None
    if person is None:
        raise NotFound(NO_LINKED_PERSON)
    from shequ.registry.selectors import person_address, person_facts, person_tags

    data = {
        "name": person.name,
        "id_number": person.id_number,
        "sex": person.get_sex_display(),
        "birth_date": person.birth_date.isoformat() if person.birth_date else None,
        "phone": person.phone,
        "residence_type": person.get_residence_type_display(),
        "status": person.get_status_display(),
        "address": person_address(person) + (person.place.name if person.place.kind == PlaceKind.UNIT else ""),
        "household": {"number": person.household.number, "relation": person.get_relation_display()}
        if person.household
        else None,
        "care_tags": [t.name for t in person_tags(person)],
        "sources": [
            {
                "field": fact.field,
                "value": fact.value,
                "source": fact.get_source_display(),
                "supplied_at": fact.supplied_at.isoformat(),
            }
            for fact in person_facts(person)
        ],
        "exported_at": timezone.now().isoformat(),
    }
    audit_record(actor=actor, action=AuditAction.EXPORT, obj=person, reason="本人查询导出个人信息")
    return data


@transaction.atomic
def household_register(*, actor: Any, unit: Place, number: str = "", **person_fields: Any) -> Person:
    """Open a new household (立户) in ``unit`` with this person as its head, as one change."""
    household = household_create(actor=actor, unit=unit, number=number)
    person_fields.pop("relation", None)
    person_fields.pop("household", None)
    return person_create(actor=actor, place=unit, household=household, relation=Relation.HEAD, **person_fields)
