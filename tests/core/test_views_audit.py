"""Audit trail page: scope of entries, filters, reveal rows, the chain check, and no unmasked data."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from shequ.core.audit import audit_record
from shequ.core.models import AuditEntry
from shequ.core.selectors import audit_list
from shequ.registry import services
from tests import factories as f

PHONE = "13812345678"


@pytest.fixture
def revealed(actors, tree):
    """A phone revealed in A1 by its worker, and a person changed in B1."""
    person = f.person(tree.a1_unit, name="张秀英", phone=PHONE, id_number=f.id_number())
    services.person_reveal(actor=actors.worker_a1, person=person, field="phone", reason="电话回访核实")
    other = f.person(tree.b1_unit, name="李华山")
    services.person_update(actor=actors.worker_b1, person=other, notes="更新备注")
    return person


def test_selector_scopes_entries_to_the_subtree(actors, revealed):
    a1 = audit_list(actor=actors.worker_a1)
    assert {e.scope_path[:12] for e in a1} <= {revealed.scope_path[:12]}
    assert a1.filter(action="reveal").exists()
    assert not audit_list(actor=actors.worker_b1).filter(action="reveal").exists()
    assert audit_list(actor=actors.officer_a).filter(action="reveal").exists()
    assert not audit_list(actor=actors.officer_b).filter(action="reveal").exists()
    assert not audit_list(actor=actors.grid_a1).exists()  # grid workers hold no audit.view


def test_only_district_admin_sees_entries_without_a_node(actors, revealed):
    audit_record(actor=actors.admin, action="login", obj=actors.admin)
    assert audit_list(actor=actors.admin).filter(scope_path="", action="login").exists()
    assert not audit_list(actor=actors.officer_a).filter(scope_path="").exists()


def test_selector_filters(actors, revealed):
    assert set(audit_list(actor=actors.admin, action="reveal").values_list("action", flat=True)) == {"reveal"}
    assert all(e.actor_name == "worker_b1" for e in audit_list(actor=actors.admin, actor_name="worker_b1"))
    assert audit_list(actor=actors.admin, actor_name="秀水社工").filter(action="reveal").exists()
    assert set(audit_list(actor=actors.admin, object_type="registry.person").values_list("object_type", flat=True)) == {
        "registry.person"
    }
    today = timezone.localdate()
    assert audit_list(actor=actors.admin, since=today, until=today).filter(action="reveal").exists()
    assert not audit_list(actor=actors.admin, until=today - dt.timedelta(days=1)).exists()
    assert not audit_list(actor=actors.admin, since=today + dt.timedelta(days=1)).exists()


def test_page_shows_the_reveal_row_with_field_and_reason_and_no_unmasked_phone(client, actors, revealed):
    client.force_login(actors.worker_a1)
    response = client.get(reverse("core:audit_list"), {"action": "reveal"})
    html = response.content.decode()
    assert response.status_code == 200
    row = response.context["rows"][0]
    assert row["entry"].action == "reveal" and str(row["field"]) == "联系电话"
    assert "audit-reveal" in html and "查看明文" in html and "联系电话" in html and "电话回访核实" in html
    assert PHONE not in html and revealed.id_number not in html and "张秀英" not in html


def test_page_is_newest_first_and_scoped(client, actors, tree, revealed):
    client.force_login(actors.worker_b1)
    entries = list(client.get(reverse("core:audit_list")).context["page_obj"])
    assert entries and all(e.scope_path.startswith(tree.b1.path) for e in entries)
    assert not any(e.action == "reveal" for e in entries)
    assert [e.at for e in entries] == sorted((e.at for e in entries), reverse=True)


@pytest.mark.parametrize("who", ["grid_a1", "resident_a1"])
def test_users_without_audit_view_get_403(client, actors, who):
    client.force_login(getattr(actors, who))
    assert client.get(reverse("core:audit_list")).status_code == 403


def test_verify_chain_button_for_district_admin_only(client, actors, revealed):
    client.force_login(actors.worker_a1)
    assert "校验日志链" not in client.get(reverse("core:audit_list")).content.decode()
    assert client.post(reverse("core:audit_verify")).status_code == 403
    client.force_login(actors.admin)
    response = client.post(reverse("core:audit_verify"))
    assert response.status_code == 200 and response.context["verify_problems"] == []
    assert "校验通过" in response.content.decode()


def test_verify_chain_reports_a_tampered_entry(client, actors, revealed):
    entry = AuditEntry.objects.filter(action="reveal").get()
    f.tamper("update core_auditentry set reason = %s where id = %s", ["无", entry.pk])
    client.force_login(actors.admin)
    response = client.post(reverse("core:audit_verify"))
    problems = response.context["verify_problems"]
    assert any(f"entry {entry.pk} was altered" in p for p in problems)
    assert "校验发现" in response.content.decode()
