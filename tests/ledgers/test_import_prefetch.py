"""A large ledger is read in a helper process beside the import; the result is the same as reading in-process."""

from __future__ import annotations

import pytest

from shequ.ledgers import importer, readers
from shequ.ledgers.choices import ImportMode, ImportStatus
from shequ.registry.models import Person
from tests.ledgers.ledger_files import media, person_row, upload, xlsx  # noqa: F401

pytestmark = pytest.mark.usefixtures("media")


def test_a_ledger_read_by_the_helper_process_imports_like_any_other(tree, actors, monkeypatch):
    # given every file counts as large, so rows come from the helper process, in batches of 2
    monkeypatch.setattr(readers, "PREFETCH_MIN_BYTES", 0)
    monkeypatch.setattr(importer, "BATCH_SIZE", 2)
    rows = [person_row(name) for name in ("王秀兰", "李建国", "张伟", "刘芳", "陈静")]
    job = upload(actors.worker_a1, tree.a1, xlsx(rows))
    # when it is imported
    job = importer.import_job_run(actor=actors.worker_a1, job=job, mode=ImportMode.ALL_OR_NOTHING)
    # then every row arrived, in order, once
    assert (job.status, job.total_rows, job.created_count) == (ImportStatus.IMPORTED, 5, 5)
    assert sorted(Person.objects.values_list("name", flat=True)) == sorted(r[0] for r in rows)


def test_a_file_the_helper_cannot_read_is_reported_as_unreadable(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "PREFETCH_MIN_BYTES", 0)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04" + b"not really a workbook" * 100)
    with pytest.raises(readers.LedgerFileError) as caught:
        list(readers.batched_data_rows(broken, kind=readers.XLSX, sheet="", header_row=1, size=10))
    assert caught.value.message == str(readers.FILE_UNREADABLE)
