"""Row rules of the ledger import: each bad row is reported with its row, column, header and exact message."""

from __future__ import annotations

import datetime as dt

import pytest

from shequ.core import pii
from shequ.ledgers import columns as cols
from shequ.ledgers import importer
from shequ.ledgers.choices import ImportStatus
from shequ.registry import services
from shequ.registry.choices import Relation
from shequ.registry.models import Person
from tests import factories as f
from tests.ledgers.ledger_files import A1_ADDRESS, A1_ADDRESS2, id_number, media, person_row, upload, xlsx  # noqa: F401

pytestmark = pytest.mark.usefixtures("media")


def check(actor, community, rows, **kw):  # type: ignore[no-untyped-def]
    job = upload(actor, community, xlsx(rows, **kw))
    job = importer.import_job_check(actor=actor, job=job)
    return job, list(job.row_errors.values_list("row", "column", "header", "message"))


def test_name_is_required(tree, actors):
    job, errors = check(actors.worker_a1, tree.a1, [person_row("")])
    assert errors == [(2, "A", "姓名", str(services.NAME_REQUIRED))]
    assert job.error_rows == 1


def test_bad_id_checksum_is_an_error_on_the_id_column(tree, actors):
    good = id_number()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    _job, errors = check(actors.worker_a1, tree.a1, [person_row(ident=bad)])
    assert errors == [(2, "B", "身份证号", str(pii.ID_NUMBER_CHECKSUM))]


def test_birth_date_contradicting_the_id_is_an_error_on_the_birth_date_column(tree, actors):
    ident = id_number(birth=dt.date(1940, 5, 6))
    _job, errors = check(actors.worker_a1, tree.a1, [person_row(ident=ident, birth="1941-05-06")])
    assert errors == [(2, "D", "出生日期", str(pii.ID_NUMBER_BIRTH_MISMATCH))]


def test_sex_contradicting_the_id_is_an_error_on_the_sex_column(tree, actors):
    _job, errors = check(actors.worker_a1, tree.a1, [person_row(ident=id_number(sex="female"), sex="男")])
    assert errors == [(2, "C", "性别", str(pii.ID_NUMBER_SEX_MISMATCH))]


def test_unknown_dwelling_names_the_address(tree, actors):
    _job, errors = check(actors.worker_a1, tree.a1, [person_row(address="秀水小区9号楼0101室")])
    assert errors == [(2, "F", "住址", str(importer.UNIT_NOT_FOUND).format(address="秀水小区9号楼0101室"))]


def test_a_dwelling_of_another_community_is_unknown_here(tree, actors):
    _job, errors = check(actors.worker_a1, tree.a1, [person_row(address="华山小区1号楼0101室")])
    assert errors[0][3] == str(importer.UNIT_NOT_FOUND).format(address="华山小区1号楼0101室")


def test_duplicate_id_within_the_file_names_the_first_row(tree, actors):
    ident = id_number()
    _job, errors = check(actors.worker_a1, tree.a1, [person_row(ident=ident), person_row("李梅", ident=ident)])
    assert errors == [(3, "B", "身份证号", str(importer.DUPLICATE_ROW).format(row=2))]


def test_duplicate_without_id_is_same_name_birth_date_and_address(tree, actors):
    rows = [person_row("王芳", ident="", birth="1950-01-02"), person_row("王芳", ident="", birth="1950/1/2"),
            person_row("王芳", ident="", birth="1950-01-02", address=A1_ADDRESS2)]
    _job, errors = check(actors.worker_a1, tree.a1, rows)
    assert [(e[0], e[3]) for e in errors] == [(3, str(importer.DUPLICATE_ROW).format(row=2))]


def test_bad_values_are_errors_not_crashes(tree, actors):
    rows = [person_row(birth="明年"), person_row(sex="未知"), person_row(phone="12345"),
            person_row(tags="独居、外星人")]
    job, errors = check(actors.worker_a1, tree.a1, rows)
    assert job.status == ImportStatus.CHECKED
    assert [(e[0], e[1], e[3]) for e in errors] == [
        (2, "D", str(cols.DATE_INVALID)),
        (3, "C", str(cols.SEX_INVALID)),
        (4, "E", str(pii.PHONE_INVALID)),
        (5, "G", str(cols.TAG_UNKNOWN).format(names="独居、外星人")),
    ]


def test_an_id_registered_in_another_community_is_refused_without_saying_where(tree, actors):
    ident = id_number()
    f.person(tree.b1_unit, name="赵明", id_number=ident)
    _job, errors = check(actors.worker_a1, tree.a1, [person_row(ident=ident)])
    assert errors == [(2, "B", "身份证号", str(importer.ID_OUT_OF_SCOPE))]
    assert "华山" not in errors[0][3]


def test_second_head_of_a_household_is_an_error_on_the_relation_column(tree, actors):
    headers = ["姓名", "身份证号", "住址", "户号", "与户主关系"]
    rows = [["张一", id_number(), A1_ADDRESS, "H1", "户主"], ["张二", id_number(), A1_ADDRESS, "H1", "户主"]]
    _job, errors = check(actors.worker_a1, tree.a1, rows, headers=headers)
    assert errors == [(3, "E", "与户主关系", str(importer.HEAD_TAKEN))]


@pytest.mark.parametrize("value", [dt.date(1950, 3, 1), "1950-03-01", "1950/3/1", "19500301", "1950年3月1日", 19500301])
def test_dates_are_read_in_every_usual_form(value):
    assert cols.parse_date(value) == dt.date(1950, 3, 1)


def test_labels_are_read_as_choices():
    assert cols.parse_sex("女") == "female"
    assert cols.parse_relation("配偶") == Relation.SPOUSE
    assert cols.parse_residence_type("流动人口") == "floating"
    with pytest.raises(cols.CellError):
        cols.parse_relation("邻居")


def test_address_in_three_columns_and_loose_spellings(tree, actors):
    headers = ["姓名", "身份证号", "小区", "楼号", "室号"]
    rows = [["钱一", id_number(), "秀水小区", "1号楼", "0101室"], ["钱二", id_number(), "秀水", "1幢", "101"],
            ["钱三", id_number(), "秀水小区", "2", "101"]]
    _job, errors = check(actors.worker_a1, tree.a1, rows, headers=headers)
    assert [(e[0], e[1], e[2]) for e in errors] == [(4, "C", "小区")]


def test_rows_are_not_written_by_the_check(tree, actors):
    before = Person.objects.count()
    job, _errors = check(actors.worker_a1, tree.a1, [person_row(), person_row("李梅")])
    assert job.created_count == 2
    assert Person.objects.count() == before
