"""Merging two records of one person (人员合并), and undoing it exactly.

A merge keeps one record (the survivor) and folds the other into it:

- the survivor is the record with an ID number, else the older one; the caller's order is a
  suggestion, and ``PersonMerge.swapped`` says when the service turned it round;
- the survivor's empty fields are filled from the merged record; its values before the merge are kept
  in ``PersonMerge.snapshot`` (encrypted: it holds names, phones and ID numbers);
- every row that references the merged record — found generically through the reverse relations of
  ``Person``, so a new app's table is covered without a change here — is re-pointed to the survivor;
  the moved primary keys are listed per table in ``PersonMerge.moved``. A row that cannot move because
  the survivor already has the same one (a care tag both records carry) is dropped if nothing else
  references it, and remembered in the snapshot so that an undo recreates it with its own key;
- the merged record gets ``status=merged`` and ``merged_into=survivor``; it is never deleted.

Undo (``person_unmerge``) moves the rows back, recreates the dropped ones, restores the survivor's
fields and the merged record's status. It is refused when the survivor has changed since the merge
(its ``version`` moved: an edit, or a later merge into it), because restoring the snapshot would throw
that change away silently; the later change must be undone first (merges are undone last-in first-out),
or the records corrected by hand.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.apps import apps
from django.db import IntegrityError, models, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shequ.accounts.roles import Capability
from shequ.core.audit import audit_record
from shequ.core.errors import Conflict, NotFound
from shequ.core.models import AuditAction
from shequ.core.scope import get_in_scope, restrict
from shequ.core.services import bump_version, check_version, require_capability
from shequ.ledgers.choices import LinkStatus
from shequ.ledgers.models import LinkCandidate, PersonMerge
from shequ.registry.choices import PersonStatus
from shequ.registry.models import Household, Person
from shequ.registry.services import set_person_digests

EDIT = Capability.REGISTRY_EDIT

MERGE_SELF = _("不能把一条人员记录与它自己合并。")
MERGE_ALREADY_MERGED = _("该人员记录已经并入其他记录，不能再合并。")
MERGE_TWO_ID_NUMBERS = _("两条记录都有身份证号且号码不同，不是同一人，不能合并。")
MERGE_DUPLICATE_ROWS = _("两条记录在“{table}”中有无法合并的重复内容，请先人工处理。")
UNMERGE_DONE = _("该合并已经撤销。")
UNMERGE_SURVIVOR_CHANGED = _("合并后保留的记录又被修改或合并过，不能自动撤销；请先撤销之后的合并或人工核对。")
UNMERGE_MERGED_CHANGED = _("被合并的记录状态已变化，不能自动撤销。")
LINK_DECIDED = _("这对记录已经处理过了。")
LINK_PERSON_GONE = _("其中一条记录已不在册（已合并、迁出或已故），不能按同一人合并。")

# Fields the survivor takes from the merged record when its own are empty. The ID number never moves:
# a merged record with an ID number always becomes the survivor instead.
FILLABLE = ("sex", "birth_date", "phone", "notes")
# Everything of the survivor a merge can change and an undo puts back.
SNAPSHOT_FIELDS = ("name", "id_number", "sex", "birth_date", "phone", "residence_type", "status", "place_id",
                   "household_id", "relation", "notes")
# References that stay where they are: the ones describing the merge itself, and ballots, which are
# frozen once cast (a recount must reproduce the result, QUALITY §18).
NOT_MOVED = frozenset({
    ("deliberation.ballot", "person"), ("registry.person", "merged_into"), ("ledgers.linkcandidate", "left"),
    ("ledgers.linkcandidate", "right"), ("ledgers.personmerge", "survivor"), ("ledgers.personmerge", "merged"),
})
DROPPED = "dropped"


def _references() -> list[tuple[type[models.Model], models.ForeignKey]]:
    """Every (model, foreign key) pointing at ``Person`` that a merge re-points."""
    found = []
    for rel in Person._meta.get_fields(include_hidden=True):
        if not (rel.is_relation and rel.auto_created and not rel.concrete) or rel.many_to_many:
            continue
        model, field = rel.related_model, rel.field
        if (model._meta.label_lower, field.name) in NOT_MOVED:
            continue
        found.append((model, field))
    return found


def _key(model: type[models.Model], field: models.Field) -> str:
    return f"{model._meta.label_lower}.{field.name}"


def _is_leaf(model: type[models.Model]) -> bool:
    """No other row references rows of ``model``: deleting one cascades nowhere."""
    return not any(
        f.is_relation and f.auto_created and not f.concrete for f in model._meta.get_fields(include_hidden=True)
    )


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _row_values(row: models.Model) -> dict[str, Any]:
    values = {f.attname: _plain(getattr(row, f.attname)) for f in row._meta.concrete_fields}
    return values


def _move(
    model: type[models.Model], field: models.ForeignKey, *, source: Person, target: Person,
    pks: list[Any] | None = None,
) -> tuple[list[Any], list[dict[str, Any]]]:
    """Re-point rows of ``model`` from ``source`` to ``target``; return (moved pks, dropped rows)."""
    rows = model._default_manager.filter(**{field.name: source})
    if pks is not None:
        rows = rows.filter(pk__in=pks)
    found = list(rows.values_list("pk", flat=True))
    if not found:
        return [], []
    try:
        with transaction.atomic():
            model._default_manager.filter(pk__in=found).update(**{field.attname: target.pk})
        return found, []
    except IntegrityError:
        pass
    moved: list[Any] = []
    dropped: list[dict[str, Any]] = []
    for pk in found:
        try:
            with transaction.atomic():
                model._default_manager.filter(pk=pk).update(**{field.attname: target.pk})
            moved.append(pk)
        except IntegrityError as exc:
            if not _is_leaf(model):
                raise Conflict(str(MERGE_DUPLICATE_ROWS).format(table=model._meta.verbose_name)) from exc
            row = model._default_manager.get(pk=pk)
            dropped.append({"model": model._meta.label_lower, "values": _row_values(row)})
            row.delete()
    return moved, dropped


def _choose(survivor: Person, merged: Person) -> tuple[Person, Person, bool]:
    """The survivor is the record with an ID number, else the older one."""
    if survivor.id_number_digest and merged.id_number_digest:
        raise Conflict(MERGE_TWO_ID_NUMBERS)
    if merged.id_number_digest and not survivor.id_number_digest:
        return merged, survivor, True
    if not survivor.id_number_digest and (merged.created_at, merged.pk) < (survivor.created_at, survivor.pk):
        return merged, survivor, True
    return survivor, merged, False


@transaction.atomic
def person_merge(
    *,
    actor: Any,
    survivor: Person,
    merged: Person,
    candidate: LinkCandidate | None = None,
    automatic: bool = False,
) -> PersonMerge:
    """Fold ``merged`` into ``survivor`` (the service may swap them: see ``PersonMerge.swapped``)."""
    require_capability(actor, survivor.scope_path, EDIT)
    require_capability(actor, merged.scope_path, EDIT)
    if survivor.pk == merged.pk:
        raise Conflict(MERGE_SELF)
    locked = {p.pk: p for p in Person.objects.select_for_update().filter(pk__in=[survivor.pk, merged.pk])}
    if len(locked) != 2:
        raise NotFound()
    survivor, merged = locked[survivor.pk], locked[merged.pk]
    if PersonStatus.MERGED in (survivor.status, merged.status) or survivor.merged_into_id or merged.merged_into_id:
        raise Conflict(MERGE_ALREADY_MERGED)
    survivor, merged, swapped = _choose(survivor, merged)

    before = {f: _plain(getattr(survivor, f)) for f in SNAPSHOT_FIELDS}
    filled = []
    for field in FILLABLE:
        if getattr(survivor, field) in (None, "") and getattr(merged, field) not in (None, ""):
            setattr(survivor, field, getattr(merged, field))
            filled.append(field)
    if survivor.household_id is None and merged.household_id and merged.place_id == survivor.place_id:
        survivor.household_id, survivor.relation = merged.household_id, merged.relation
        filled.append("household")

    moved: dict[str, list[Any]] = {}
    dropped: list[dict[str, Any]] = []
    for model, field in _references():
        pks, gone = _move(model, field, source=merged, target=survivor)
        if pks:
            moved[_key(model, field)] = pks
        dropped.extend(gone)

    set_person_digests(survivor)
    bump_version(survivor)
    survivor.save()
    merged_before = {"status": merged.status, "status_changed_at": _plain(merged.status_changed_at),
                     "version": merged.version, "household_id": merged.household_id, "relation": merged.relation}
    merged.status, merged.merged_into, merged.status_changed_at = PersonStatus.MERGED, survivor, timezone.now()
    # The folded record leaves its household, so it is not listed there nor counted as its head.
    merged.household, merged.relation = None, ""
    bump_version(merged)
    merged.save()

    if candidate is not None:
        candidate = LinkCandidate.objects.select_for_update().get(pk=candidate.pk)
        candidate.status = LinkStatus.AUTO_MERGED if automatic else LinkStatus.MERGED
        candidate.decided_by = actor if actor is not None and not automatic else None
        candidate.decided_at = timezone.now()
        bump_version(candidate)
        candidate.save()

    snapshot = {"survivor": before, "survivor_version": survivor.version, "merged": merged_before,
                "merged_version": merged.version, "filled": filled, DROPPED: dropped}
    merge = PersonMerge(survivor=survivor, merged=merged, candidate=candidate, automatic=automatic,
                        merged_by=actor if actor is not None else None, moved=moved,
                        snapshot=json.dumps(snapshot, ensure_ascii=False, default=str))
    merge.set_scope(survivor.scope_path)
    merge.save()
    audit_record(
        actor=actor, action=AuditAction.MERGE, obj=survivor,
        changes={"merge": merge.pk, "survivor": survivor.pk, "merged": merged.pk, "automatic": automatic,
                 "filled": filled, "moved": {k: len(v) for k, v in moved.items()}, "dropped": len(dropped)},
    )
    merge.swapped = swapped  # type: ignore[attr-defined]
    return merge


def _parse(value: Any, field: models.Field) -> Any:
    if value is None:
        return None
    if isinstance(field, models.DateTimeField):
        return dt.datetime.fromisoformat(value)
    if isinstance(field, models.DateField):
        return dt.date.fromisoformat(value)
    return value


@transaction.atomic
def person_unmerge(*, actor: Any, merge: PersonMerge) -> PersonMerge:
    """Undo a merge exactly; refused once the survivor has changed since (see the module docstring)."""
    require_capability(actor, merge.survivor.scope_path, EDIT)
    require_capability(actor, merge.merged.scope_path, EDIT)
    merge = PersonMerge.objects.select_for_update().get(pk=merge.pk)
    if merge.undone_at is not None:
        raise Conflict(UNMERGE_DONE)
    locked = {p.pk: p for p in Person.objects.select_for_update().filter(pk__in=[merge.survivor_id, merge.merged_id])}
    survivor, merged = locked[merge.survivor_id], locked[merge.merged_id]
    snapshot = json.loads(merge.snapshot)
    if survivor.version != snapshot["survivor_version"]:
        raise Conflict(UNMERGE_SURVIVOR_CHANGED)
    if merged.version != snapshot["merged_version"] or merged.merged_into_id != survivor.pk:
        raise Conflict(UNMERGE_MERGED_CHANGED)

    references = {_key(model, field): (model, field) for model, field in _references()}
    for key, pks in merge.moved.items():
        if key in references:
            model, field = references[key]
            model._default_manager.filter(pk__in=pks, **{field.name: survivor}).update(**{field.attname: merged.pk})
    for row in snapshot[DROPPED]:
        model = apps.get_model(row["model"])
        values = {f.attname: _parse(row["values"].get(f.attname), f) for f in model._meta.concrete_fields
                  if f.attname in row["values"]}
        model._default_manager.bulk_create([model(**values)])
        # auto_now(_add) fields were stamped anew by the insert; put the original times back.
        stamps = {f.attname: values[f.attname] for f in model._meta.concrete_fields
                  if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)}
        if stamps:
            model._default_manager.filter(pk=values[model._meta.pk.attname]).update(**stamps)

    for field, value in snapshot["survivor"].items():
        setattr(survivor, field, _parse(value, Person._meta.get_field(field.removesuffix("_id"))))
    set_person_digests(survivor)
    bump_version(survivor)
    survivor.save()
    if survivor.household_id and survivor.relation == "head":
        Household.objects.filter(pk=survivor.household_id, head=None).update(head=survivor)

    merged.status = snapshot["merged"]["status"]
    merged.status_changed_at = _parse(snapshot["merged"]["status_changed_at"],
                                      Person._meta.get_field("status_changed_at"))
    merged.merged_into = None
    merged.household_id, merged.relation = snapshot["merged"]["household_id"], snapshot["merged"]["relation"]
    bump_version(merged)
    merged.save()

    if merge.candidate_id:
        LinkCandidate.objects.filter(pk=merge.candidate_id).update(
            status=LinkStatus.UNDONE, version=models.F("version") + 1, updated_at=timezone.now()
        )
    merge.undone_at, merge.undone_by = timezone.now(), actor if actor is not None else None
    merge.save(update_fields=["undone_at", "undone_by", "updated_at"])
    audit_record(actor=actor, action=AuditAction.UNMERGE, obj=survivor,
                 changes={"merge": merge.pk, "survivor": survivor.pk, "merged": merged.pk,
                          "restored": {k: len(v) for k, v in merge.moved.items()},
                          "recreated": len(snapshot[DROPPED])})
    return merge


@transaction.atomic
def link_decide(
    *, actor: Any, candidate: LinkCandidate, same_person: bool, version: int | None = None
) -> LinkCandidate:
    """A worker's decision on a pending pair: merge the two records, or mark them as two people."""
    require_capability(actor, candidate.scope_path, EDIT)
    candidate = LinkCandidate.objects.select_for_update().select_related("left", "right").get(pk=candidate.pk)
    check_version(candidate, version)
    if candidate.status != LinkStatus.PENDING:
        raise Conflict(LINK_DECIDED)
    if same_person:
        if candidate.left.status != PersonStatus.ACTIVE or candidate.right.status != PersonStatus.ACTIVE:
            raise Conflict(LINK_PERSON_GONE)
        person_merge(actor=actor, survivor=candidate.left, merged=candidate.right, candidate=candidate)
        candidate.refresh_from_db()
        return candidate
    candidate.status = LinkStatus.SEPARATED
    candidate.decided_by, candidate.decided_at = actor, timezone.now()
    bump_version(candidate)
    candidate.save()
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=candidate,
                 object_repr=f"{candidate.left.audit_repr} ≠ {candidate.right.audit_repr}",
                 changes={"status": {"old": LinkStatus.PENDING, "new": LinkStatus.SEPARATED}})
    return candidate


# --- Reads (scoped) ------------------------------------------------------------------------------------


def merge_list(*, actor: Any, include_undone: bool = True) -> QuerySet[PersonMerge]:
    qs = restrict(PersonMerge.objects.select_related("survivor", "merged", "merged_by", "undone_by"), actor,
                  capability=EDIT)
    if not include_undone:
        qs = qs.filter(undone_at=None)
    return qs.order_by("-created_at", "-id")


def merge_get(*, actor: Any, merge_id: Any) -> PersonMerge:
    return get_in_scope(PersonMerge.objects.select_related("survivor", "merged"), actor, capability=EDIT, pk=merge_id)
