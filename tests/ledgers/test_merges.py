"""Merging two records of one person and undoing it exactly; decisions on the review queue."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.db import connection

from shequ.core.errors import Conflict, NotFound, PermissionDenied
from shequ.core.models import AuditAction, AuditEntry
from shequ.ledgers import merges
from shequ.ledgers.choices import LinkStatus
from shequ.ledgers.models import LinkCandidate, PersonMerge
from shequ.registry import services
from shequ.registry.choices import PersonStatus, Relation
from shequ.registry.models import Household, Ownership, Person, PersonFact, PersonTag
from tests import factories as f


@pytest.fixture
def pair(tree):
    """Two records of one woman in A1: the older without a phone, the newer with one and more tags."""
    household = services.household_create(actor=None, unit=tree.a1_unit, number="0101户")
    older = f.person(tree.a1_unit, name="王秀英", sex="female", tags=["living_alone"])
    newer = f.person(tree.a1_unit, name="王秀英", sex="female", birth_date=dt.date(1941, 2, 3),
                     phone="13812340000", household=household, relation=Relation.HEAD,
                     tags=["living_alone", "oldest_old"], notes="低保复核中")
    Ownership.objects.create(unit=tree.a1_unit, person=newer, scope_path=tree.a1_unit.path)
    return older, newer, household


def references(*people: Person) -> dict[str, list[tuple[Any, ...]]]:
    """Every row that references one of ``people``, with the reference, for before/after comparison."""
    ids = [p.pk for p in people]
    return {
        "tags": sorted(PersonTag.objects.filter(person_id__in=ids).values_list("pk", "person_id", "tag_digest",
                                                                               "source", "created_at")),
        "facts": sorted(PersonFact.objects.filter(person_id__in=ids).values_list("pk", "person_id")),
        "heads": sorted(Household.objects.filter(head_id__in=ids).values_list("pk", "head_id")),
        "owners": sorted(Ownership.objects.filter(person_id__in=ids).values_list("pk", "person_id")),
    }


PERSON_STATE = ("name", "sex", "birth_date", "phone", "phone_digest", "notes", "status", "household_id", "relation",
                "merged_into_id", "status_changed_at")


def state(person: Person) -> dict[str, Any]:
    person.refresh_from_db()
    return {f: getattr(person, f) for f in PERSON_STATE}


def test_merge_keeps_the_older_record_fills_it_and_moves_every_reference(tree, actors, pair):
    older, newer, household = pair
    # when a worker merges them, naming the newer one as survivor
    merge = merges.person_merge(actor=actors.worker_a1, survivor=newer, merged=older)
    # then the older record survives (neither has an ID number) and the service says it swapped
    assert merge.swapped is True
    assert (merge.survivor_id, merge.merged_id) == (older.pk, newer.pk)
    older.refresh_from_db()
    newer.refresh_from_db()
    assert older.birth_date == dt.date(1941, 2, 3) and older.phone == "13812340000" and older.notes == "低保复核中"
    assert older.household_id == household.pk and older.relation == Relation.HEAD
    assert newer.status == PersonStatus.MERGED and newer.merged_into_id == older.pk
    # every reference now points at the survivor; the duplicate tag was dropped
    refs = references(older, newer)
    assert {row[1] for row in refs["tags"] + refs["facts"] + refs["heads"] + refs["owners"]} == {older.pk}
    assert len(refs["tags"]) == 2
    assert set(merge.moved) >= {"registry.persontag.person", "registry.personfact.person", "registry.household.head",
                                "registry.ownership.person"}
    # the snapshot is encrypted at rest
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT snapshot FROM {PersonMerge._meta.db_table} WHERE id = %s", [merge.pk])
        raw = cursor.fetchone()[0]
    assert "王秀英" not in raw and json.loads(PersonMerge.objects.get(pk=merge.pk).snapshot)["survivor"]["phone"] == ""
    entry = AuditEntry.objects.get(action=AuditAction.MERGE)
    assert entry.changes["merged"] == newer.pk and entry.changes["filled"] == ["birth_date", "phone", "notes",
                                                                               "household"]


def test_unmerge_restores_exactly(tree, actors, pair):
    older, newer, _household = pair
    before_refs = references(older, newer)
    before = (state(older), state(newer))
    merge = merges.person_merge(actor=actors.worker_a1, survivor=older, merged=newer)
    assert references(older, newer) != before_refs
    merges.person_unmerge(actor=actors.worker_a1, merge=merge)
    assert references(older, newer) == before_refs  # same rows, same keys, dropped tag recreated as it was
    assert (state(older), state(newer)) == before
    merge.refresh_from_db()
    assert merge.undone_at is not None and merge.undone_by == actors.worker_a1
    assert AuditEntry.objects.filter(action=AuditAction.UNMERGE, changes__merge=merge.pk).exists()


def test_survivor_with_an_id_number_is_kept(tree, actors):
    plain = f.person(tree.a1_unit, name="刘洋")
    known = f.person(tree.a1_unit, name="刘洋", id_number=f.id_number(sex="male"))
    merge = merges.person_merge(actor=actors.worker_a1, survivor=plain, merged=known)
    assert merge.survivor_id == known.pk and merge.swapped is True


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("self", merges.MERGE_SELF),
        ("two_ids", merges.MERGE_TWO_ID_NUMBERS),
        ("already", merges.MERGE_ALREADY_MERGED),
    ],
)
def test_merge_refusals(tree, actors, case, message):
    a = f.person(tree.a1_unit, name="孙丽", id_number=f.id_number())
    b = f.person(tree.a1_unit, name="孙丽", id_number=f.id_number() if case == "two_ids" else "")
    if case == "already":
        c = f.person(tree.a1_unit, name="孙丽")
        merges.person_merge(actor=actors.worker_a1, survivor=a, merged=c)
        a, b = c, b
    with pytest.raises(Conflict) as exc:
        merges.person_merge(actor=actors.worker_a1, survivor=a, merged=a if case == "self" else b)
    assert exc.value.message == message


def test_merge_across_scopes_needs_edit_rights_on_both(tree, actors):
    a = f.person(tree.a1_unit, name="周杰")
    b = f.person(tree.a2_unit, name="周杰")
    with pytest.raises(NotFound):
        merges.person_merge(actor=actors.worker_a1, survivor=a, merged=b)
    with pytest.raises(PermissionDenied):
        merges.person_merge(actor=actors.grid_a1, survivor=a, merged=a)
    merge = merges.person_merge(actor=actors.officer_a, survivor=a, merged=b)
    assert merge.survivor_id == a.pk
    assert not AuditEntry.objects.filter(action=AuditAction.MERGE, actor=actors.worker_a1).exists()


def test_unmerge_refused_after_the_survivor_changed(tree, actors, pair):
    older, newer, _household = pair
    merge = merges.person_merge(actor=actors.worker_a1, survivor=older, merged=newer)
    services.person_update(actor=actors.worker_a1, person=older, notes="已上门核实")
    with pytest.raises(Conflict) as exc:
        merges.person_unmerge(actor=actors.worker_a1, merge=merge)
    assert exc.value.message == merges.UNMERGE_SURVIVOR_CHANGED
    merge.refresh_from_db()
    assert merge.undone_at is None


def test_unmerge_twice_is_refused(tree, actors, pair):
    older, newer, _household = pair
    merge = merges.person_merge(actor=actors.worker_a1, survivor=older, merged=newer)
    merges.person_unmerge(actor=actors.worker_a1, merge=merge)
    with pytest.raises(Conflict) as exc:
        merges.person_unmerge(actor=actors.worker_a1, merge=merge)
    assert exc.value.message == merges.UNMERGE_DONE


def _candidate(a: Person, b: Person) -> LinkCandidate:
    left, right = sorted((a, b), key=lambda p: p.pk)
    candidate = LinkCandidate(left=left, right=right, probability=0.9, details={"name": "exact"})
    candidate.set_scope(left.scope_path[:12])
    candidate.save()
    return candidate


def test_decide_same_person_merges_and_undo_marks_the_pair(tree, actors, pair):
    older, newer, _household = pair
    candidate = _candidate(older, newer)
    decided = merges.link_decide(actor=actors.worker_a1, candidate=candidate, same_person=True, version=1)
    assert decided.status == LinkStatus.MERGED and decided.decided_by == actors.worker_a1
    merge = PersonMerge.objects.get(candidate=candidate)
    merges.person_unmerge(actor=actors.worker_a1, merge=merge)
    candidate.refresh_from_db()
    assert candidate.status == LinkStatus.UNDONE


def test_decide_not_same_person_separates(tree, actors, pair):
    older, newer, _household = pair
    candidate = _candidate(older, newer)
    decided = merges.link_decide(actor=actors.worker_a1, candidate=candidate, same_person=False, version=1)
    assert decided.status == LinkStatus.SEPARATED and decided.version == 2
    assert Person.objects.filter(status=PersonStatus.ACTIVE, pk__in=[older.pk, newer.pk]).count() == 2
    assert AuditEntry.objects.filter(object_type="ledgers.linkcandidate", object_id=str(candidate.pk)).exists()


def test_decisions_are_version_checked_and_made_once(tree, actors, pair):
    older, newer, _household = pair
    candidate = _candidate(older, newer)
    with pytest.raises(Conflict):
        merges.link_decide(actor=actors.worker_a1, candidate=candidate, same_person=False, version=7)
    merges.link_decide(actor=actors.worker_a1, candidate=candidate, same_person=False, version=1)
    with pytest.raises(Conflict) as exc:
        merges.link_decide(actor=actors.worker_a1, candidate=candidate, same_person=True, version=2)
    assert exc.value.message == merges.LINK_DECIDED


def test_decisions_out_of_scope_are_not_found(tree, actors, pair):
    older, newer, _household = pair
    candidate = _candidate(older, newer)
    with pytest.raises(NotFound):
        merges.link_decide(actor=actors.worker_b1, candidate=candidate, same_person=True, version=1)
    assert not merges.merge_list(actor=actors.worker_b1).exists()
