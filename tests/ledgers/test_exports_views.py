"""Pages of the ledger exports: the ledger list, masked downloads, requests and approvals, scope."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from shequ.core.models import AuditAction, AuditEntry
from shequ.ledgers import exports
from shequ.ledgers.choices import ExportStatus
from shequ.ledgers.models import ExportRequest
from tests import factories as f

ID_RE = re.compile(r"\d{17}[\dX]")
MOBILE_RE = re.compile(r"1[3-9]\d{9}")


@pytest.fixture
def people(tree: Any, actors: Any) -> dict[str, Any]:
    return {
        "old": f.person(tree.a1_unit, name="张秀英", id_number=f.id_number(birth=dt.date(1940, 1, 1)),
                        phone="13812345678", tags=["living_alone"]),
        "young": f.person(tree.a1_unit2, name="李国强", birth_date=dt.date(1990, 1, 1), phone="13900002222"),
        "in_b": f.person(tree.b1_unit, name="吴五", id_number=f.id_number(birth=dt.date(1940, 1, 1)),
                         phone="13600004444"),
    }


def _login(client: Any, user: Any) -> Any:
    client.force_login(user)
    return client


def _workbook_text(response: Any) -> tuple[list[list[Any]], str]:
    content = b"".join(response.streaming_content)
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    rows = [list(r) for r in workbook.active.iter_rows(values_only=True)]
    return rows, "\n".join(str(c) for r in rows for c in r if c is not None)


def test_export_home_lists_ledgers_with_counts(client, tree, actors, people):
    response = _login(client, actors.worker_a1).get(reverse("ledgers:export_home"))
    assert response.status_code == 200
    page = response.content.decode()
    for title in ("高龄老人名册", "残疾人名册", "低保户名册", "独居老人关爱名册", "人员名单"):
        assert title in page
    assert "导出（脱敏）" in page
    assert "申请明文导出" not in page and "明文导出申请" not in page  # a community worker lacks PII_EXPORT
    rows = {r["ledger"].key: r["count"] for r in response.context["ledgers"]}
    assert rows["elderly_80"] == 1 and rows["people"] == 2


def test_export_home_offers_requests_to_pii_export_holders(client, tree, actors, people):
    page = _login(client, actors.head_a1).get(reverse("ledgers:export_home")).content.decode()
    assert "申请明文导出" in page


def test_export_home_has_a_place_selector_for_several_communities(client, tree, actors, people):
    response = _login(client, actors.officer_a).get(reverse("ledgers:export_home"), {"place": tree.a2.pk})
    assert response.status_code == 200
    assert [p.name for p in response.context["places"]] == ["华阳路街道", "秀水居委会", "蒋家巷居委会"]
    assert response.context["place"] == tree.a2


def test_export_home_outside_scope_is_404(client, tree, actors, people):
    response = _login(client, actors.worker_a1).get(reverse("ledgers:export_home"), {"place": tree.b1.pk})
    assert response.status_code == 404


def test_masked_download_is_masked_and_audited(client, tree, actors, people):
    response = _login(client, actors.worker_a1).get(
        reverse("ledgers:export_download"), {"ledger": "elderly_80", "place": tree.a1.pk}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == exports.XLSX_CONTENT_TYPE
    assert "attachment" in response["Content-Disposition"]
    rows, text = _workbook_text(response)
    assert rows[0][0] == "秀水居委会高龄老人名册"
    assert [r[1] for r in rows[2:-2]] == ["张**"]
    assert not ID_RE.search(text) and not MOBILE_RE.search(text) and "1940" not in text and "0101室" not in text
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert entry.actor == actors.worker_a1 and entry.changes["masked"] is True and entry.changes["rows"] == 1


def test_masked_download_outside_scope_is_404(client, tree, actors, people):
    response = _login(client, actors.worker_a1).get(
        reverse("ledgers:export_download"), {"ledger": "elderly_80", "place": tree.b1.pk}
    )
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action=AuditAction.EXPORT).exists()


def test_people_list_links_to_an_export_of_its_filter(client, tree, actors, people):
    # given the people page filtered to people living alone
    client = _login(client, actors.worker_a1)
    page = client.get(reverse("registry:person_list"), {"tag": "living_alone"}).content.decode()
    match = re.search(r'id="people-export" href="([^"]+)"', page)
    assert match
    url = match.group(1).replace("&amp;", "&")
    assert "ledger=people" in url and "tag=living_alone" in url
    # when the link is followed, the workbook holds that filtered list of the worker's community
    rows, _text = _workbook_text(client.get(url))
    assert rows[0][0] == "秀水居委会人员名单"
    assert [r[1] for r in rows[2:-2]] == ["张**"]


def test_request_approve_and_download_through_the_pages(client, tree, actors, people):
    # the community head asks for the unmasked 高龄老人名册
    client = _login(client, actors.head_a1)
    url = reverse("ledgers:export_request_new") + f"?ledger=elderly_80&place={tree.a1.pk}"
    assert client.get(url).status_code == 200
    response = client.post(url, {"ledger": "elderly_80", "place": tree.a1.pk, "reason": "核"})
    assert response.status_code == 200
    assert str(exports.EXPORT_REASON_REQUIRED) in response.content.decode()
    response = client.post(url, {"ledger": "elderly_80", "place": tree.a1.pk, "reason": "高龄津贴年度核对"})
    assert response.status_code == 302
    request = ExportRequest.objects.get()
    # the head cannot approve it
    response = client.post(reverse("ledgers:export_request_decide", args=[request.pk]),
                           {"decision": "approve", "version": request.version}, follow=True)
    assert "不能审批自己的导出申请" in response.content.decode()
    # the district admin sees it waiting and approves it
    client.force_login(actors.admin)
    page = client.get(reverse("ledgers:export_request_list")).content.decode()
    assert "待我审批" in page and "高龄津贴年度核对" in page
    client.post(reverse("ledgers:export_request_decide", args=[request.pk]),
                {"decision": "approve", "note": "同意", "version": request.version})
    request.refresh_from_db()
    assert request.status == ExportStatus.APPROVED
    # the head downloads the unmasked file once
    client.force_login(actors.head_a1)
    assert "下载明文文件" in client.get(reverse("ledgers:export_request_list")).content.decode()
    response = client.post(reverse("ledgers:export_request_file", args=[request.pk]))
    assert response.status_code == 200
    rows, text = _workbook_text(response)
    assert people["old"].id_number in text and "13812345678" in text and "1940-01-01" in text
    response = client.post(reverse("ledgers:export_request_file", args=[request.pk]), follow=True)
    assert str(exports.EXPORT_ALREADY_USED) in response.content.decode()


def test_request_pages_refuse_workers_and_other_communities(client, tree, actors, people):
    request = exports.export_request(actor=actors.head_a1, place=tree.a1, ledger="disabled", reason="残联年度核对")
    client = _login(client, actors.worker_a1)
    assert client.get(reverse("ledgers:export_request_new")).status_code == 403
    # a worker without PII_EXPORT, and the worker of another community, cannot reach the request
    for user in (actors.worker_a1, actors.worker_b1):
        client.force_login(user)
        decide = client.post(reverse("ledgers:export_request_decide", args=[request.pk]),
                             {"decision": "approve", "version": request.version})
        assert decide.status_code == 404
        assert client.post(reverse("ledgers:export_request_file", args=[request.pk])).status_code == 404
    request.refresh_from_db()
    assert request.status == ExportStatus.PENDING


def test_anonymous_is_sent_to_login(client, tree):
    response = client.get(reverse("ledgers:export_home"))
    assert response.status_code == 302 and "/login/" in response["Location"]
