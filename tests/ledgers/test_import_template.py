"""The blank ledger template: downloadable by those who may import, and it maps itself when filled in."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from shequ.ledgers import importer
from shequ.ledgers.choices import ImportMode, ImportStatus
from shequ.registry.models import Person
from tests.ledgers.ledger_files import id_number, media  # noqa: F401

pytestmark = pytest.mark.usefixtures("media")


def test_the_filled_in_template_imports_without_touching_the_mapping(client, tree, actors):
    # given the template downloaded from the upload page
    client.force_login(actors.worker_a1)
    response = client.get("/ledgers/imports/template.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook.active
    headers = [c.value for c in sheet[1]]
    # when a worker fills in one person and uploads it
    room = tree.a1_unit
    building, compound = room.parent, room.parent.parent
    values = {"序号": 1, "姓名": "顾阿妹", "身份证号": id_number(), "性别": "女", "小区": compound.name,
              "楼号": building.name, "室号": room.name}
    sheet.append([values.get(h, "") for h in headers])
    buffer = io.BytesIO()
    workbook.save(buffer)
    job = importer.import_job_create(actor=actors.worker_a1, community=tree.a1, file=io.BytesIO(buffer.getvalue()),
                                     filename="模板.xlsx", source="community")
    # then every column it filled was recognised, and the person is imported at that room
    assert {"姓名", "身份证号", "性别", "小区", "楼号", "室号"} <= {h for h, f in job.mapping.items() if f}
    job = importer.import_job_run(actor=actors.worker_a1, job=job, mode=ImportMode.ALL_OR_NOTHING)
    assert job.status == ImportStatus.IMPORTED
    assert Person.objects.get(name="顾阿妹").place == room


def test_a_resident_cannot_download_the_template(client, actors):
    client.force_login(actors.resident_a1)
    assert client.get("/ledgers/imports/template.xlsx").status_code == 403


def test_the_mapping_page_shows_shortened_examples_of_each_column(client, tree, actors):
    # given an uploaded ledger with a full ID number and phone in it
    room = tree.a1_unit
    building, compound = room.parent, room.parent.parent
    ident = id_number()
    workbook = io.BytesIO()
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["姓名", "身份证号", "联系电话", "性别", "小区", "楼号", "室号"])
    book.active.append(["顾阿妹", ident, "13812345678", "女", compound.name, building.name, room.name])
    book.save(workbook)
    job = importer.import_job_create(actor=actors.worker_a1, community=tree.a1, file=io.BytesIO(workbook.getvalue()),
                                     filename="例.xlsx", source="community")
    # when the worker opens the mapping page
    client.force_login(actors.worker_a1)
    html = client.get(f"/ledgers/imports/{job.pk}/map/").content.decode()
    # then each column shows a shortened example, never a whole ID number, phone or name
    assert "例：" in html and "例：顾…" in html and "例：女" in html
    assert f"例：{ident[:4]}…" in html and "例：138…" in html
    assert ident not in html and "13812345678" not in html and "顾阿妹" not in html
