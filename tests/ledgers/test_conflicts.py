"""Fact conflicts: listed masked with their sources, resolved by keeping or replacing, audited, scoped."""

from __future__ import annotations

import pytest

from shequ.core.errors import Conflict, NotFound
from shequ.core.models import AuditAction, AuditEntry
from shequ.ledgers import conflicts, importer
from shequ.ledgers.choices import ConflictStatus, ImportMode
from shequ.ledgers.models import FactConflict
from tests import factories as f
from tests.ledgers.ledger_files import id_number, media, person_row, upload, xlsx  # noqa: F401

pytestmark = pytest.mark.usefixtures("media")


@pytest.fixture
def conflict(tree, actors):  # type: ignore[no-untyped-def]
    ident = id_number()
    person = f.person(tree.a1_unit, name="王秀兰", id_number=ident, phone="13900001111")
    job = upload(actors.worker_a1, tree.a1, xlsx([person_row("王秀兰", ident=ident, phone="13812345678")]),
                 source="health")
    importer.import_job_run(actor=actors.worker_a1, job=job, mode=ImportMode.ALL_OR_NOTHING)
    found = FactConflict.objects.get(person=person)
    return found


def test_the_list_shows_both_values_masked_with_their_sources(conflict, actors):
    rows = conflicts.conflict_rows(list(conflicts.conflict_list(actor=actors.worker_a1)))
    assert len(rows) == 1
    row = rows[0]
    assert (row["field_label"], row["current"], row["incoming"]) == ("联系电话", "139****1111", "138****5678")
    assert (row["current_source"], row["incoming_source"]) == ("社区采集", "卫健")
    assert row["current_at"] is not None and row["incoming_at"] is not None


def test_keeping_the_current_value(conflict, actors):
    resolved = conflicts.conflict_resolve(actor=actors.worker_a1, conflict=conflict, keep_current=True, note="电话核实")
    assert resolved.status == ConflictStatus.KEPT and resolved.resolved_by == actors.worker_a1
    conflict.person.refresh_from_db()
    assert conflict.person.phone == "13900001111"
    entry = AuditEntry.objects.filter(object_type="ledgers.factconflict").get()
    assert entry.changes["status"] == "kept" and entry.reason == "电话核实"


def test_adopting_the_incoming_value_records_its_source(conflict, actors):
    resolved = conflicts.conflict_resolve(actor=actors.worker_a1, conflict=conflict, keep_current=False)
    assert resolved.status == ConflictStatus.REPLACED
    person = conflict.person
    person.refresh_from_db()
    assert person.phone == "13812345678"
    latest = person.facts.filter(field="phone").order_by("-supplied_at", "-id").first()
    assert latest.source == "health" and latest.reference.startswith(f"信息冲突#{conflict.pk}")
    assert AuditEntry.objects.filter(action=AuditAction.UPDATE, object_type="registry.person").exists()


def test_a_resolved_conflict_cannot_be_resolved_again(conflict, actors):
    conflicts.conflict_resolve(actor=actors.worker_a1, conflict=conflict, keep_current=True)
    with pytest.raises(Conflict):
        conflicts.conflict_resolve(actor=actors.worker_a1, conflict=conflict, keep_current=False)


def test_another_community_neither_sees_nor_resolves_it(conflict, actors):
    assert not conflicts.conflict_list(actor=actors.worker_b1).exists()
    with pytest.raises(NotFound):
        conflicts.conflict_get(actor=actors.worker_b1, conflict_id=conflict.pk)
    with pytest.raises(NotFound):
        conflicts.conflict_resolve(actor=actors.worker_b1, conflict=conflict, keep_current=True)


def test_birth_dates_are_never_shown_whole():
    import datetime as dt

    assert conflicts.mask_value("birth_date", dt.date(1950, 3, 1)) == "1950-**-**"
    assert conflicts.mask_value("name", "王秀兰") == "王**"
