"""Browser walk through the ledger exports: a masked download, a request for an unmasked export,
its approval by a second person, and the one download it allows."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from openpyxl import load_workbook

from shequ.core.models import AuditAction, AuditEntry
from shequ.ledgers.choices import ExportStatus
from shequ.ledgers.models import ExportRequest
from tests.e2e.conftest import PHONE, sign_in

pytestmark = pytest.mark.e2e

ID_RE = re.compile(r"\d{17}[\dX]")
MOBILE_RE = re.compile(r"1[3-9]\d{9}")


def _download(page: Any, click: Any) -> tuple[list[list[Any]], str, str]:
    with page.expect_download() as info:
        click()
    download = info.value
    with open(download.path(), "rb") as handle:
        workbook = load_workbook(io.BytesIO(handle.read()), read_only=True)
    rows = [list(r) for r in workbook.active.iter_rows(values_only=True)]
    workbook.close()
    return rows, "\n".join(str(c) for r in rows for c in r if c is not None), download.suggested_filename


def test_masked_export_request_approval_and_download(open_page: Any, city: Any, actors: Any, shot: Any) -> None:
    # given the head of 秀水居委会 on the export page
    head = open_page()
    sign_in(head, "head_a1")
    head.goto("/ledgers/exports/")
    assert head.get_by_role("heading", name=re.compile("高龄老人名册")).is_visible()
    shot(head, "ledger-export-home-desktop")
    # when they export the people living alone (masked)
    ledger = head.locator("#ledger-living_alone")
    rows, text, filename = _download(head, lambda: ledger.get_by_role("link", name="导出（脱敏）").click())
    # then the workbook is masked: no full ID number, phone, birth date or room
    assert filename.endswith("_脱敏.xlsx") and "独居老人关爱名册" in filename
    assert rows[0][0] == "秀水居委会独居老人关爱名册"
    assert [r[1] for r in rows[2:-2]] == ["张**"]
    assert not ID_RE.search(text) and not MOBILE_RE.search(text) and "0101室" not in text
    # when they ask for the unmasked ledger, with a reason
    ledger.get_by_role("link", name="申请明文导出").click()
    head.get_by_label("用途").fill("民政局独居老人走访核对")
    shot(head, "ledger-export-request-form-desktop")
    head.get_by_role("button", name="提交申请").click()
    head.wait_for_url("**/ledgers/exports/requests/")
    assert head.get_by_text("待审批").first.is_visible()
    shot(head, "ledger-export-requests-pending-desktop")
    request = ExportRequest.objects.get()

    # when the district admin, another person, approves it on a phone
    admin = open_page(PHONE)
    sign_in(admin, "admin")
    admin.goto("/ledgers/exports/requests/")
    card = admin.locator(f"#export-request-{request.pk}")
    assert "民政局独居老人走访核对" in card.inner_text()
    card.get_by_label("审批意见").fill("同意，用后删除")
    shot(admin, "ledger-export-approve-phone")
    card.get_by_role("button", name="批准").click()
    admin.wait_for_url("**/ledgers/exports/requests/")
    shot(admin, "ledger-export-approved-phone")
    request.refresh_from_db()
    assert request.status == ExportStatus.APPROVED and request.decided_by == actors.admin

    # then the head downloads the unmasked file, once
    head.reload()
    shot(head, "ledger-export-requests-approved-desktop")
    rows, text, filename = _download(head, lambda: head.get_by_role("button", name=re.compile("下载明文文件")).click())
    assert filename.endswith("_明文.xlsx")
    assert city.head.id_number in text and "13812345678" in text and "0101室" in text
    request.refresh_from_db()
    assert request.status == ExportStatus.USED
    head.reload()
    assert head.get_by_role("button", name=re.compile("下载明文文件")).count() == 0
    shot(head, "ledger-export-requests-used-desktop")
    exports_audited = AuditEntry.objects.filter(action=AuditAction.EXPORT).order_by("id")
    assert [e.changes["masked"] for e in exports_audited] == [True, False]
    assert exports_audited[1].reason == "民政局独居老人走访核对"


def test_people_list_export_link_on_a_phone(open_page: Any, city: Any, shot: Any) -> None:
    # given a worker on the people page filtered to 残疾 on a phone
    page = open_page(PHONE)
    sign_in(page, "worker_a1")
    page.goto("/registry/people/?tag=disabled")
    shot(page, "ledger-export-people-list-phone")
    # when they follow 导出
    rows, text, _filename = _download(page, lambda: page.get_by_role("link", name="导出", exact=True).click())
    # then the workbook holds that filtered list, masked, naming the tag it is about
    assert [r[1] for r in rows[2:-2]] == ["李**"]
    assert rows[2][-1] == "残疾"
    assert not MOBILE_RE.search(text)
    page.goto("/ledgers/exports/")
    shot(page, "ledger-export-home-phone")
