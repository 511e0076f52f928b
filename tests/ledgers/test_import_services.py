"""The import services: upload, mapping, modes, enrichment with provenance, crash safety, audit, scope."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from shequ.core.errors import Conflict, NotFound, ValidationFailed
from shequ.core.models import AuditAction, AuditEntry
from shequ.ledgers import importer
from shequ.ledgers.choices import ConflictStatus, ImportMode, ImportStatus
from shequ.ledgers.models import FactConflict, ImportJob, ImportTemplate
from shequ.registry.choices import Relation, ResidenceType
from shequ.registry.models import Household, Person, PersonFact, PersonTag
from shequ.registry.selectors import person_tags
from tests import factories as f
from tests.ledgers.ledger_files import (  # noqa: F401
    A1_ADDRESS,
    HEADERS,
    csv_bytes,
    fills,
    id_number,
    media,
    person_row,
    read_xlsx,
    upload,
    xlsx,
)

pytestmark = pytest.mark.usefixtures("media")


def snapshot() -> tuple[int, int, int, int, int]:
    return (Person.objects.count(), PersonFact.objects.count(), PersonTag.objects.count(), Household.objects.count(),
            FactConflict.objects.count())


# --- Upload and mapping ---------------------------------------------------------------------------------


def test_upload_is_stored_encrypted_and_the_header_found_below_a_title_row(tree, actors, settings):
    ident = id_number()
    data = xlsx([person_row(ident=ident)], title="秀水社区高龄老人名册")
    job = upload(actors.worker_a1, tree.a1, data)
    assert job.header_row == 2
    assert job.headers == HEADERS
    assert job.mapping["身份证号"] == "id_number" and job.mapping["住址"] == "address"
    stored = Path(settings.MEDIA_ROOT) / job.stored_name
    assert stored.exists() and data not in stored.read_bytes() and b"PK\x03\x04" not in stored.read_bytes()[:64]
    assert job.status == ImportStatus.UPLOADED


def test_csv_in_gb18030_is_read(tree, actors):
    data = csv_bytes([person_row("欧阳娜娜", tags="独居老人")], encoding="gb18030")
    job = upload(actors.worker_a1, tree.a1, data, filename="名册.csv")
    assert job.headers == HEADERS
    job = importer.import_job_run(actor=actors.worker_a1, job=job, mode=ImportMode.ALL_OR_NOTHING)
    assert job.status == ImportStatus.IMPORTED
    assert Person.objects.filter(name="欧阳娜娜").exists()


def test_a_file_that_is_neither_xlsx_nor_csv_is_refused(tree, actors):
    with pytest.raises(ValidationFailed) as exc:
        upload(actors.worker_a1, tree.a1, b"%PDF-1.4 binary\x00\x01")
    assert exc.value.errors == {"file": [str(importer.readers.FILE_TYPE_INVALID)]}


def test_a_file_over_the_limit_is_refused(tree, actors, monkeypatch):
    monkeypatch.setattr(importer, "MAX_BYTES", 100)
    with pytest.raises(ValidationFailed) as exc:
        upload(actors.worker_a1, tree.a1, csv_bytes([person_row()] * 10))
    assert exc.value.errors == {"file": [str(importer.FILE_TOO_LARGE)]}


def test_mapping_rules_are_explained_in_chinese(tree, actors):
    job = upload(actors.worker_a1, tree.a1, xlsx([person_row()]))
    with pytest.raises(ValidationFailed) as exc:
        importer.import_job_map(actor=actors.worker_a1, job=job,
                                mapping={**job.mapping, "姓名": "", "住址": "", "备注": "phone"})
    messages = exc.value.errors["mapping"]
    assert str(importer.MAPPING_NAME_REQUIRED) in messages
    assert str(importer.MAPPING_ADDRESS_REQUIRED) in messages
    assert str(importer.MAPPING_FIELD_TWICE).format(field="联系电话", headers="联系电话、备注") in messages


def test_a_saved_template_maps_the_next_ledger_with_the_same_headers(tree, actors):
    headers = ["居民名字", "证件号", "家庭地址", "手机"]
    data = xlsx([["王一", id_number(), A1_ADDRESS, "13812345678"]], headers=headers)
    job = upload(actors.worker_a1, tree.a1, data)
    assert job.mapping["居民名字"] == ""
    mapping = {"居民名字": "name", "证件号": "id_number", "家庭地址": "address", "手机": "phone"}
    importer.import_job_map(actor=actors.worker_a1, job=job, mapping=mapping, save_template_name="民政高龄名册")
    assert ImportTemplate.objects.get().name == "民政高龄名册"
    again = upload(actors.worker_a1, tree.a1, data)
    assert again.mapping == mapping
    assert again.template.name == "民政高龄名册"


# --- Creating and enriching ---------------------------------------------------------------------------


def test_new_people_are_created_with_facts_tags_and_household(tree, actors):
    headers = [*HEADERS, "户号", "与户主关系", "人口类型"]
    ident = id_number(sex="female")
    rows = [[*person_row("王秀兰", ident=ident, tags="独居老人、高龄"), "H01", "户主", "常住"]]
    job = upload(actors.worker_a1, tree.a1, xlsx(rows, headers=headers))
    job = importer.import_job_run(actor=actors.worker_a1, job=job, mode=ImportMode.ALL_OR_NOTHING)
    assert (job.status, job.created_count, job.total_rows) == (ImportStatus.IMPORTED, 1, 1)
    person = Person.objects.get(name="王秀兰")
    assert person.id_number == ident and person.sex == "female" and person.birth_date == dt.date(1940, 5, 6)
    assert person.place == tree.a1_unit and person.residence_type == ResidenceType.PERMANENT
    assert person.household.number == "H01" and person.relation == Relation.HEAD
    assert person.household.head == person
    assert {t.slug for t in person_tags(person)} == {"living_alone", "oldest_old"}
    facts = {fact.field: fact for fact in person.facts.all()}
    assert set(facts) == {"name", "id_number", "sex", "phone", "residence_type"}
    assert facts["phone"].source == "civil_affairs"
    assert facts["phone"].reference == f"台账导入#{job.pk} 第2行"


def test_a_known_id_enriches_the_person_with_provenance_and_opens_conflicts(tree, actors):
    ident = id_number()
    person = f.person(tree.a1_unit, name="王秀兰", id_number=ident, phone="13900001111", tags=["oldest_old"])
    before_people = Person.objects.count()
    rows = [person_row("王秀兰", ident=ident, phone="13812345678", tags="独居老人", notes="子女在外地")]
    job = upload(actors.worker_a1, tree.a1, xlsx(rows), source="health")
    job = importer.import_job_run(actor=actors.worker_a1, job=job, mode=ImportMode.ALL_OR_NOTHING)
    assert (job.created_count, job.enriched_count, job.conflict_count) == (0, 1, 1)
    assert Person.objects.count() == before_people
    person.refresh_from_db()
    assert person.phone == "13900001111"  # the value in force is kept
    assert person.notes == "子女在外地"
    assert {t.slug for t in person_tags(person)} == {"oldest_old", "living_alone"}
    conflict = FactConflict.objects.get()
    assert (conflict.person, conflict.field, conflict.status, conflict.job) == (person, "phone", "open", job)
    assert conflict.incoming.value == "13812345678" and conflict.incoming.source == "health"
    assert conflict.incoming.reference == f"台账导入#{job.pk} 第2行"


def test_an_empty_field_is_filled_and_an_identical_value_is_unchanged(tree, actors):
    ident, ident2 = id_number(), id_number()
    empty = f.person(tree.a1_unit, name="李一", id_number=ident)
    same = f.person(tree.a1_unit, name="李二", id_number=ident2, phone="13812345678")
    rows = [person_row("李一", ident=ident), person_row("李二", ident=ident2)]
    job = upload(actors.worker_a1, tree.a1, xlsx(rows, headers=HEADERS))
    facts_before = PersonFact.objects.filter(person=same).count()
    job = importer.import_job_run(actor=actors.worker_a1, job=job, mode=ImportMode.ALL_OR_NOTHING)
    assert (job.enriched_count, job.unchanged_count, job.conflict_count) == (1, 1, 0)
    empty.refresh_from_db()
    assert empty.phone == "13812345678" and empty.version == 2
    fact = empty.facts.get(field="phone", source="civil_affairs")
    assert fact.reference == f"台账导入#{job.pk} 第2行"
    assert PersonFact.objects.filter(person=same).count() == facts_before  # no corroboration fact


def test_importing_the_same_ledger_twice_opens_each_conflict_once(tree, actors):
    ident = id_number()
    f.person(tree.a1_unit, name="王秀兰", id_number=ident, phone="13900001111")
    data = xlsx([person_row("王秀兰", ident=ident)])
    for _ in range(2):
        job = upload(actors.worker_a1, tree.a1, data)
        importer.import_job_run(actor=actors.worker_a1, job=job, mode=ImportMode.ALL_OR_NOTHING)
    assert FactConflict.objects.filter(status=ConflictStatus.OPEN).count() == 1


# --- Modes, crash, lock, audit --------------------------------------------------------------------------


def test_all_or_nothing_writes_nothing_when_a_row_is_bad(tree, actors):
    rows = [person_row("好一"), person_row("", ident=""), person_row("好二")]
    job = upload(actors.worker_a1, tree.a1, xlsx(rows))
    before = snapshot()
    job = importer.import_job_run(actor=actors.worker_a1, job=job, mode=ImportMode.ALL_OR_NOTHING)
    assert job.status == ImportStatus.REJECTED
    assert snapshot() == before
    assert (job.error_rows, job.created_count) == (1, 0)
    assert list(job.row_errors.values_list("row", flat=True)) == [3]
    entry = AuditEntry.objects.get(action=AuditAction.IMPORT)
    assert entry.outcome == "rejected"


def test_good_rows_imports_the_good_ones(tree, actors):
    rows = [person_row("好一"), person_row("", ident=""), person_row("好二")]
    job = upload(actors.worker_a1, tree.a1, xlsx(rows))
    job = importer.import_job_run(actor=actors.worker_a1, job=job, mode=ImportMode.GOOD_ROWS)
    assert job.status == ImportStatus.IMPORTED
    assert (job.created_count, job.error_rows) == (2, 1)
    assert set(Person.objects.values_list("name", flat=True)) >= {"好一", "好二"}


def test_one_audit_entry_for_the_whole_import(tree, actors):
    job = upload(actors.worker_a1, tree.a1, xlsx([person_row(f"人{c}") for c in "甲乙丙丁戊"]))
    job = importer.import_job_run(actor=actors.worker_a1, job=job, mode=ImportMode.ALL_OR_NOTHING)
    entry = AuditEntry.objects.get(action=AuditAction.IMPORT)
    assert entry.actor == actors.worker_a1 and entry.object_id == str(job.pk)
    assert entry.changes["created"] == 5 and entry.changes["source"] == "civil_affairs"
    assert entry.changes["filename"] == "名册.xlsx"
    assert not AuditEntry.objects.filter(object_type="registry.person").exists()


def test_a_crash_mid_import_leaves_the_database_as_it_was(tree, actors, monkeypatch):
    f.person(tree.a1_unit, name="原有", id_number=id_number())
    rows = [person_row("人" + chr(0x4E00 + i), tags="高龄") for i in range(25)]
    job = upload(actors.worker_a1, tree.a1, xlsx(rows))
    before = snapshot()
    real = importer.new_person

    def failing(pipeline, row, households):  # type: ignore[no-untyped-def]
        if row.number == 20:
            raise RuntimeError("disk full")
        return real(pipeline, row, households)

    monkeypatch.setattr(importer, "BATCH_SIZE", 5)  # several batches are written before the crash
    monkeypatch.setattr(importer, "new_person", failing)
    job = importer.import_job_run(actor=actors.worker_a1, job=job, mode=ImportMode.GOOD_ROWS)
    assert snapshot() == before
    assert job.status == ImportStatus.FAILED
    assert job.failure == str(importer.IMPORT_FAILED).format(kind="RuntimeError")
    assert AuditEntry.objects.get(action=AuditAction.IMPORT).outcome == "failed"
    monkeypatch.setattr(importer, "new_person", real)
    job = importer.import_job_run(actor=actors.worker_a1, job=job, mode=ImportMode.GOOD_ROWS)
    assert job.status == ImportStatus.IMPORTED and job.created_count == 25


def test_a_job_cannot_be_imported_twice(tree, actors):
    job = upload(actors.worker_a1, tree.a1, xlsx([person_row()]))
    stale = ImportJob.objects.get(pk=job.pk)
    importer.import_job_run(actor=actors.worker_a1, job=job, mode=ImportMode.ALL_OR_NOTHING)
    with pytest.raises(Conflict):
        importer.import_job_run(actor=actors.worker_a1, job=stale, mode=ImportMode.ALL_OR_NOTHING)
    with pytest.raises(Conflict):
        importer.import_job_run(actor=actors.worker_a1, job=stale, mode=ImportMode.GOOD_ROWS, version=stale.version)
    assert Person.objects.filter(name="王秀兰").count() == 1


# --- Scope ----------------------------------------------------------------------------------------------


def test_a_worker_cannot_import_into_or_see_another_community(tree, actors):
    with pytest.raises(NotFound):
        upload(actors.worker_a1, tree.b1, xlsx([person_row()]))
    job = upload(actors.worker_b1, tree.b1, xlsx([person_row(address="华山小区1号楼0101室")]))
    with pytest.raises(NotFound):
        importer.import_job_get(actor=actors.worker_a1, job_id=job.pk)
    with pytest.raises(NotFound):
        importer.import_job_run(actor=actors.worker_a1, job=job, mode=ImportMode.GOOD_ROWS)
    assert job not in importer.import_job_list(actor=actors.worker_a1)
    assert job in importer.import_job_list(actor=actors.officer_b)


def test_a_street_officer_enriches_a_person_of_another_community_of_the_street(tree, actors):
    ident = id_number()
    f.person(tree.a2_unit, name="周一", id_number=ident)
    job = upload(actors.officer_a, tree.a1, xlsx([person_row("周一", ident=ident)]))
    job = importer.import_job_run(actor=actors.officer_a, job=job, mode=ImportMode.ALL_OR_NOTHING)
    assert (job.status, job.enriched_count) == (ImportStatus.IMPORTED, 1)


# --- Error workbook and retention -------------------------------------------------------------------------


def test_error_workbook_lists_the_bad_rows_and_imports_once_fixed(tree, actors):
    rows = [person_row("好一"), person_row("坏一", address="秀水小区9号楼0101室"), person_row("", phone="123")]
    job = upload(actors.worker_a1, tree.a1, xlsx(rows, title="秀水社区名册"))
    job = importer.import_job_check(actor=actors.worker_a1, job=job)
    data = importer.error_workbook(job)
    sheet = read_xlsx(data)
    assert sheet[0] == [*HEADERS, "错误说明"]
    assert [r[0] for r in sheet[1:]] == ["坏一", None]
    assert sheet[1][-1] == "列F 住址：找不到该房屋：秀水小区9号楼0101室。"
    assert sheet[2][-1].startswith("列A 姓名：请填写姓名。；列E 联系电话：")
    assert {"F2", "A3", "E3"} <= set(fills(data))
    # Fix the two rows in the error workbook and upload it again.
    fixed = [r[:-1] for r in sheet[1:]]
    fixed[0][5] = A1_ADDRESS
    fixed[1][0], fixed[1][4] = "好二", "13812345678"
    again = upload(actors.worker_a1, tree.a1, xlsx([[*r, "旧的说明"] for r in fixed], headers=[*HEADERS, "错误说明"]))
    assert again.mapping["错误说明"] == ""
    again = importer.import_job_run(actor=actors.worker_a1, job=again, mode=ImportMode.ALL_OR_NOTHING)
    assert (again.status, again.created_count) == (ImportStatus.IMPORTED, 2)


def test_stored_files_are_purged_after_seven_days(tree, actors, settings):
    job = upload(actors.worker_a1, tree.a1, xlsx([person_row()]))
    stored = Path(settings.MEDIA_ROOT) / job.stored_name
    assert importer.import_files_purge() == 0
    ImportJob.objects.filter(pk=job.pk).update(created_at=job.created_at - dt.timedelta(days=8))
    assert importer.import_files_purge() == 1
    assert not stored.exists()
    job.refresh_from_db()
    with pytest.raises(ValidationFailed) as exc:
        importer.import_job_check(actor=actors.worker_a1, job=job)
    assert exc.value.errors == {"file": [str(importer.FILE_GONE)]}


def test_upload_from_a_path_and_a_named_sheet(tree, actors, tmp_path):
    path = tmp_path / "名册.xlsx"
    path.write_bytes(xlsx([person_row()], sheet="第二季度"))
    job = importer.import_job_create(actor=None, community=tree.a1, file=str(path), filename=path.name,
                                     source="civil_affairs", sheet="第二季度")
    assert job.headers == HEADERS
    with pytest.raises(ValidationFailed):
        importer.import_job_create(actor=None, community=tree.a1, file=io.BytesIO(path.read_bytes()),
                                   filename="x.xlsx", source="civil_affairs", sheet="没有")
