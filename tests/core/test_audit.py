"""The audit trail is append-only and tamper-evident (QUALITY §9)."""

import pytest
from django.db import DatabaseError, connection, transaction

from shequ.core.audit import audit_record, audit_verify
from shequ.core.models import AuditAction, AuditEntry
from shequ.registry import services
from tests import factories as f


@pytest.fixture
def entries(actors, tree):
    person = f.person(tree.a1_unit, phone="13812345678")
    services.person_reveal(actor=actors.worker_a1, person=person, field="phone", reason="电话回访核实")
    services.person_update(actor=actors.worker_a1, person=person, notes="已回访")
    return list(AuditEntry.objects.order_by("id"))


def test_the_orm_refuses_to_change_or_delete_entries(entries):
    entry = entries[-1]
    entry.reason = "改写"
    with pytest.raises(RuntimeError):
        entry.save()
    with pytest.raises(RuntimeError):
        entry.delete()


def test_the_database_refuses_update_and_delete_from_any_client(entries):
    for sql in (
        f"UPDATE core_auditentry SET reason='x' WHERE id={entries[0].pk}",
        f"DELETE FROM core_auditentry WHERE id={entries[0].pk}",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as c:
            c.execute(sql)
    assert AuditEntry.objects.filter(pk=entries[0].pk, reason=entries[0].reason).exists()


def test_queryset_update_and_delete_are_refused_too(entries):
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.all().update(reason="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.all().delete()


def test_an_intact_chain_verifies(entries):
    assert audit_verify() == []


def _tamper(sql):
    """What someone with the database owner's rights could do: lift the guard, edit, put it back."""
    f.tamper(sql)


def test_an_edited_entry_is_detected(entries):
    reveal = next(e for e in entries if e.action == AuditAction.REVEAL)
    _tamper(f"UPDATE core_auditentry SET reason='无' WHERE id={reveal.pk}")
    problems = audit_verify()
    assert any(f"entry {reveal.pk} was altered" in p for p in problems)


def test_a_deleted_entry_is_detected(entries):
    middle = entries[len(entries) // 2]
    _tamper(f"DELETE FROM core_auditentry WHERE id={middle.pk}")
    assert audit_verify() != []


def test_a_deleted_last_entry_is_detected(entries):
    _tamper(f"DELETE FROM core_auditentry WHERE id={entries[-1].pk}")
    assert any("missing at the end" in p for p in audit_verify())


def test_chains_are_kept_per_street(entries, tree):
    street_entries = [e for e in entries if e.scope_path.startswith(tree.street_a.path)]
    assert street_entries and all(e.chain == tree.street_a.path for e in street_entries)


def test_an_entry_records_who_what_which_why_and_the_request(actors, tree, client):
    entry = audit_record(actor=actors.worker_a1, action=AuditAction.REVEAL, obj=tree.a1, field="phone", reason="核实")
    assert (entry.actor, entry.actor_name, entry.action, entry.object_type, entry.object_id) == (
        actors.worker_a1,
        "worker_a1",
        "reveal",
        "registry.place",
        str(tree.a1.pk),
    )
    assert entry.scope_path == tree.a1.path and entry.reason == "核实" and entry.hash


def test_a_rolled_back_change_leaves_no_audit_row(actors, tree):
    before = AuditEntry.objects.count()
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        f.person(tree.a1_unit, name="李四")
        raise ZeroDivisionError
    assert AuditEntry.objects.count() == before
