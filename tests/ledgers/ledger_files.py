"""Builders of ledger files (台账) for the import tests: .xlsx workbooks and .csv in UTF-8 or GB18030."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from shequ.core import pii

HEADERS = ["姓名", "身份证号", "性别", "出生日期", "联系电话", "住址", "人员类别", "备注"]
A1_ADDRESS = "秀水小区1号楼0101室"
A1_ADDRESS2 = "秀水小区1号楼0102室"
_seq = iter(range(100, 10_000))


def id_number(*, birth: dt.date = dt.date(1940, 5, 6), sex: str = "female") -> str:
    return pii.make_id_number(region_code="310105", birth_date=birth, sequence=next(_seq), sex=sex)


def xlsx(rows: Sequence[Sequence[Any]], *, headers: Sequence[str] = HEADERS, title: str | None = None,
         sheet: str = "名册") -> bytes:
    """A workbook whose first sheet holds an optional title row, the header row and ``rows``."""
    workbook = Workbook()
    ws = workbook.active
    ws.title = sheet
    if title:
        ws.append([title])
    ws.append(list(headers))
    for row in rows:
        ws.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: Sequence[Sequence[Any]], *, headers: Sequence[str] = HEADERS, encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buffer.getvalue().encode(encoding)


def read_xlsx(data: bytes) -> list[list[Any]]:
    """Every row of the first sheet as values (for asserting on an error workbook)."""
    ws = load_workbook(io.BytesIO(data)).worksheets[0]
    return [list(r) for r in ws.iter_rows(values_only=True)]


def fills(data: bytes) -> dict[str, str]:
    """Cell coordinate → fill colour of the filled cells of the first sheet."""
    ws = load_workbook(io.BytesIO(data)).worksheets[0]
    found = {}
    for row in ws.iter_rows():
        for cell in row:
            if cell.fill is not None and cell.fill.fill_type == "solid":
                found[cell.coordinate] = cell.fill.start_color.rgb
    return found


def person_row(name: str = "王秀兰", *, ident: str | None = None, sex: str = "女", birth: Any = "",
               phone: str = "13812345678", address: str = A1_ADDRESS, tags: str = "", notes: str = "") -> list[Any]:
    return [name, ident if ident is not None else id_number(), sex, birth, phone, address, tags, notes]


@pytest.fixture
def media(settings: Any, tmp_path: Any) -> Any:
    """Uploaded ledgers go to a temporary media root (and are checked to be encrypted there)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def upload(actor: Any, community: Any, data: bytes, *, filename: str = "名册.xlsx", source: str = "civil_affairs",
           mapping: dict[str, str] | None = None) -> Any:
    """Create a job from bytes (and set its mapping when given)."""
    from shequ.ledgers import importer

    job = importer.import_job_create(actor=actor, community=community, file=io.BytesIO(data), filename=filename,
                                     source=source)
    if mapping is not None:
        job = importer.import_job_map(actor=actor, job=job, mapping={**job.mapping, **mapping})
    return job
