"""Browser walk through the import wizard: upload → map → check → errors → import good rows → conflicts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from shequ.ledgers.models import FactConflict, ImportJob
from shequ.registry.models import Person
from tests.e2e.conftest import PHONE, sign_in
from tests.ledgers.ledger_files import media, person_row, read_xlsx, xlsx  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("media")]


def test_worker_imports_a_ledger_with_one_bad_row(page: Any, open_page: Any, city: Any, shot: Any,
                                                  tmp_path: Path) -> None:
    # given a ledger from 卫健 with a title row: a known person with another phone, a new one, and a bad ID
    ledger = tmp_path / "卫健高龄名册.xlsx"
    ledger.write_bytes(xlsx([
        person_row("张秀英", ident=city.head.id_number, phone="13900009999", tags="高龄", notes="子女在外地"),
        person_row("周兰芳", sex="女", tags="独居老人"),
        person_row("吴坏行", ident="310105195003070000"),
    ], title="秀水社区高龄老人名册（卫健）"))
    sign_in(page, "worker_a1")
    # when the worker uploads it
    page.goto("/ledgers/imports/")
    shot(page, "import-list-empty")
    page.get_by_role("link", name="上传台账").click()
    page.get_by_label("台账文件").set_input_files(str(ledger))
    page.get_by_label("来源条线").select_option("health")
    shot(page, "import-1-upload")
    page.get_by_role("button", name="上传并识别表头").click()
    # then the columns are mapped from the headers
    page.wait_for_url(re.compile(r"/ledgers/imports/\d+/map/$"))
    assert page.get_by_label("身份证号").input_value() == "id_number"
    assert page.get_by_label("住址").input_value() == "address"
    shot(page, "import-2-map")
    page.get_by_role("button", name="下一步：检查").click()
    # and the check lists the bad row with its row, column and header
    page.wait_for_url(re.compile(r"/ledgers/imports/\d+/check/$"))
    errors = page.get_by_test_id("import-errors")
    assert "5" in errors.locator("tbody tr").first.inner_text()
    assert "身份证号校验位不正确" in errors.inner_text()
    assert Person.objects.filter(name="周兰芳").count() == 0
    shot(page, "import-3-check")
    # when they download the error workbook
    with page.expect_download() as info:
        page.get_by_test_id("download-errors").click()
    rows = read_xlsx(Path(info.value.path()).read_bytes())
    assert rows[1][0] == "吴坏行" and rows[1][-1].startswith("列B 身份证号：")
    # and import the good rows
    page.get_by_label("只导入正确的行").check()
    page.get_by_role("button", name="开始导入").click()
    page.wait_for_url(re.compile(r"/ledgers/imports/\d+/$"))
    assert "已于" in page.get_by_test_id("import-status").inner_text()
    shot(page, "import-4-result")
    job = ImportJob.objects.get()
    assert (job.created_count, job.enriched_count, job.conflict_count, job.error_rows) == (1, 1, 1, 1)
    # then the conflict shows both phones masked with their sources
    page.get_by_role("link", name="核实信息冲突").click()
    person = page.get_by_test_id("conflict-person")
    assert "138****5678" in person.inner_text() and "139****9999" in person.inner_text()
    assert "13900009999" not in page.content()
    shot(page, "conflicts-desktop")
    phone = open_page(PHONE)
    sign_in(phone, "worker_a1")
    phone.goto("/ledgers/imports/conflicts/")
    shot(phone, "conflicts-phone")
    page.get_by_role("button", name="采用新值").click()
    page.wait_for_selector("text=已采用新值。")
    shot(page, "conflicts-resolved")
    assert FactConflict.objects.get().status == "replaced"
    city.head.refresh_from_db()
    assert city.head.phone == "13900009999"
    page.goto("/ledgers/imports/")
    shot(page, "import-list")
