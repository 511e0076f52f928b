"""Ledger exports: who each ledger lists, masking of the workbook, approval of unmasked exports, audit."""

from __future__ import annotations

import datetime as dt
import os
import re
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from shequ.core import pii
from shequ.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from shequ.core.models import AuditAction, AuditEntry, Notification
from shequ.ledgers import exports
from shequ.ledgers.choices import ExportStatus
from shequ.ledgers.models import ExportRequest
from shequ.registry import services
from shequ.registry.choices import PersonStatus, Relation, ResidenceType
from shequ.registry.models import Person, PersonTag
from tests import factories as f

ID_RE = re.compile(r"\d{17}[\dX]")
MOBILE_RE = re.compile(r"1[3-9]\d{9}")


def _years_ago(years: int, days: int = 0) -> dt.date:
    today = timezone.localdate()
    return today.replace(year=today.year - years) - dt.timedelta(days=days)


@pytest.fixture
def people(tree: Any, actors: Any) -> SimpleNamespace:
    """A1: an 86-year-old living alone, a disabled man, a 低保 household of two, a young person living alone.
    B1: an 86-year-old with the same tags (another street: never in A1's ledgers)."""
    born_1940 = dt.date(1940, 1, 1)
    old = f.person(tree.a1_unit, name="张秀英", id_number=f.id_number(birth=born_1940), phone="13812345678",
                   tags=["living_alone", "oldest_old"])
    disabled = f.person(tree.a1_unit2, name="李国强", id_number=f.id_number(birth=dt.date(1980, 5, 6), sex="male"),
                        phone="13900002222", tags=["disabled"])
    household = services.household_create(actor=None, unit=tree.a1_unit2, number="0102户")
    child = f.person(tree.a1_unit2, name="王小明", birth_date=dt.date(1990, 2, 3), household=household,
                     relation=Relation.CHILD)
    head = f.person(tree.a1_unit2, name="王大海", id_number=f.id_number(birth=dt.date(1960, 7, 8), sex="male"),
                    phone="13700003333", household=household, relation=Relation.HEAD, tags=["subsistence"])
    alone_young = f.person(tree.a1_unit, name="赵一", birth_date=_years_ago(59), tags=["living_alone"])
    alone_60 = f.person(tree.a1_unit, name="钱二", birth_date=_years_ago(60), tags=["living_alone"])
    old_79 = f.person(tree.a1_unit, name="孙三", birth_date=_years_ago(80, days=-1))
    old_80 = f.person(tree.a1_unit, name="周四", birth_date=_years_ago(80))
    in_b = f.person(tree.b1_unit, name="吴五", id_number=f.id_number(birth=born_1940), phone="13600004444",
                    tags=["living_alone", "oldest_old", "disabled", "subsistence"])
    return SimpleNamespace(old=old, disabled=disabled, household=household, child=child, head=head,
                           alone_young=alone_young, alone_60=alone_60, old_79=old_79, old_80=old_80, in_b=in_b)


def _names(actor: Any, place: Any, key: str, filters: dict[str, str] | None = None) -> list[str]:
    qs = exports.ledger_people(actor=actor, place=place, ledger=exports.LEDGERS[key], filters=filters)
    return [p.name for p in qs]


def _cells(path: str) -> list[list[Any]]:
    workbook = load_workbook(path, read_only=True)
    rows = [list(row) for row in workbook.active.iter_rows(values_only=True)]
    workbook.close()
    return rows


@pytest.fixture
def written() -> Any:
    paths: list[str] = []

    def keep(file: exports.ExportFile) -> list[list[Any]]:
        paths.append(file.path)
        return _cells(file.path)

    yield keep
    for path in paths:
        if os.path.exists(path):
            os.unlink(path)


# --- Selection ------------------------------------------------------------------------------------------


def test_elderly_ledger_lists_people_aged_80_and_over_in_the_place(tree, actors, people):
    # when the worker of A1 selects the 高龄老人名册 of A1
    names = _names(actors.worker_a1, tree.a1, "elderly_80")
    # then exactly the A1 people aged 80 or more are listed (80 today counts, 79 does not), never B1's
    assert sorted(names) == sorted(["张秀英", "周四"])


def test_disabled_ledger_lists_the_disabled_tag(tree, actors, people):
    assert _names(actors.worker_a1, tree.a1, "disabled") == ["李国强"]


def test_subsistence_ledger_lists_the_household_head_first(tree, actors, people):
    # given a 低保 household whose head carries the tag and whose child does not
    # when the 低保户名册 is selected
    names = _names(actors.worker_a1, tree.a1, "subsistence")
    # then the whole household is listed, the head first
    assert names == ["王大海", "王小明"]


def test_living_alone_ledger_lists_only_those_aged_60_and_over(tree, actors, people):
    assert sorted(_names(actors.worker_a1, tree.a1, "living_alone")) == sorted(["张秀英", "钱二"])


def test_people_ledger_takes_the_people_page_filters(tree, actors, people):
    assert _names(actors.worker_a1, tree.a1, "people", {"tag": "living_alone", "age_band": "80+"}) == ["张秀英"]
    assert _names(actors.worker_a1, tree.a1, "people", {"q": "王"}) == ["王小明", "王大海"]
    assert _names(actors.worker_a1, tree.a1, "people", {"sex": "male", "within": str(tree.a1_compound.pk)}) == [
        "李国强", "王大海"
    ]


def test_people_ledger_refuses_a_filter_place_outside_the_chosen_place(tree, actors, people):
    # given the officer of street A, who sees A1 and A2
    # when they export A1 filtered to a compound of A2
    # then the selection is refused as not found
    with pytest.raises(NotFound):
        _names(actors.officer_a, tree.a1, "people", {"within": str(tree.a2_compound.pk)})


def test_ledgers_are_scoped_to_the_actor(tree, actors, people):
    # when the worker of B1 asks for the ledgers of A1 (a place outside their scope), nothing is listed
    assert _names(actors.worker_b1, tree.a1, "elderly_80") == []
    # and the masked export refuses the place outright
    with pytest.raises(NotFound):
        exports.export_masked(actor=actors.worker_b1, place=tree.a1, ledger=exports.LEDGERS["elderly_80"])


def test_ledger_counts(tree, actors, people):
    counts = exports.ledger_counts(actor=actors.worker_a1, place=tree.a1)
    assert counts == {"elderly_80": 2, "disabled": 1, "subsistence": 2, "living_alone": 2, "people": 8}


# --- Masked workbook ------------------------------------------------------------------------------------


def test_masked_workbook_holds_no_full_id_number_phone_birth_date_or_room(tree, actors, people, written):
    # when the worker exports the people list of A1, masked
    file = exports.export_masked(actor=actors.worker_a1, place=tree.a1, ledger=exports.LEDGERS["people"])
    rows = written(file)
    # then the title, header and footer rows frame the people
    assert rows[0][0] == "秀水居委会人员名单"
    assert rows[1] == ["序号", "姓名", "性别", "年龄", "身份证号", "联系电话", "住址", "人口类型", "标签"]
    assert "（已脱敏）" in rows[-1][0] and "导出人：秀水社工" in rows[-1][0]
    assert file.row_count == 8 and file.masked
    # and no cell holds a full ID number, a phone, a birth date, a room or a full name
    text = "\n".join(str(c) for row in rows for c in row if c is not None)
    assert not ID_RE.search(text) and not f.valid_id_numbers_in(text)
    assert not MOBILE_RE.search(text)
    assert "1940" not in text and "19400101" not in text
    assert "0101室" not in text and "0102室" not in text
    assert "张秀英" not in text
    by_name = {row[1]: row for row in rows[2:-2]}
    old = by_name["张**"]
    assert old[4] == pii.mask_id_number(people.old.id_number) and old[5] == "138****5678"
    assert old[6] == "华阳路街道秀水居委会秀水小区1号楼"
    # and sensitive tags are not named outside the ledgers about them
    assert "残疾" not in text and "低保" not in text
    assert "独居老人" in old[8]


def test_masked_export_is_audited(tree, actors, people, written):
    file = exports.export_masked(actor=actors.worker_a1, place=tree.a1, ledger=exports.LEDGERS["people"],
                                 filters={"tag": "living_alone", "page": "2"})
    written(file)
    entry = AuditEntry.objects.filter(action=AuditAction.EXPORT).get()
    assert entry.actor == actors.worker_a1
    assert entry.scope_path == tree.a1.path
    assert entry.changes == {"ledger": "people", "place": tree.a1.path, "rows": 3, "masked": True,
                             "filters": {"tag": "living_alone"}}


def test_sensitive_tag_shown_in_its_own_ledger(tree, actors, people, written):
    rows = written(exports.export_masked(actor=actors.worker_a1, place=tree.a1, ledger=exports.LEDGERS["disabled"]))
    assert rows[0][0] == "秀水居委会残疾人名册"
    assert rows[2][8] == "残疾"


def test_subsistence_workbook_has_household_columns(tree, actors, people, written):
    rows = written(exports.export_masked(actor=actors.worker_a1, place=tree.a1,
                                         ledger=exports.LEDGERS["subsistence"]))
    assert rows[1][:4] == ["序号", "户号", "与户主关系", "姓名"]
    assert [r[1:3] for r in rows[2:4]] == [["0102户", "户主"], ["0102户", "子女"]]
    assert rows[2][-1] == "低保" and rows[3][-1] is None


# --- Unmasked export with approval --------------------------------------------------------------------


REASON = "区民政局高龄津贴年度核对"


def _request(actors: Any, tree: Any, ledger: str = "elderly_80", **kw: Any) -> ExportRequest:
    return exports.export_request(actor=actors.head_a1, place=tree.a1, ledger=ledger, reason=REASON, **kw)


def test_request_is_pending_audited_and_notifies_the_approvers(tree, actors, people):
    request = _request(actors, tree)
    assert request.status == ExportStatus.PENDING and request.scope_path == tree.a1.path
    assert AuditEntry.objects.filter(action=AuditAction.CREATE, object_id=str(request.pk)).exists()
    # the district admin (PII_EXPORT above A1) is told; the requester is not
    assert list(Notification.objects.values_list("user__username", flat=True)) == ["admin"]


def test_request_needs_pii_export_and_a_reason(tree, actors, people):
    with pytest.raises(PermissionDenied):
        exports.export_request(actor=actors.worker_a1, place=tree.a1, ledger="elderly_80", reason=REASON)
    with pytest.raises(NotFound):
        exports.export_request(actor=actors.head_a1, place=tree.b1, ledger="elderly_80", reason=REASON)
    with pytest.raises(ValidationFailed) as exc:
        exports.export_request(actor=actors.head_a1, place=tree.a1, ledger="elderly_80", reason=" 核 对 ")
    assert exc.value.errors == {"reason": [str(exports.EXPORT_REASON_REQUIRED)]}
    with pytest.raises(ValidationFailed) as exc:
        exports.export_request(actor=actors.head_a1, place=tree.a1, ledger="nope", reason=REASON)
    assert exc.value.errors == {"ledger": [str(exports.LEDGER_UNKNOWN)]}


def test_self_approval_is_refused(tree, actors, people):
    request = _request(actors, tree)
    with pytest.raises(PermissionDenied) as exc:
        exports.export_decide(actor=actors.head_a1, request=request, approve=True)
    assert str(exc.value.message) == "不能审批自己的导出申请"
    request.refresh_from_db()
    assert request.status == ExportStatus.PENDING


def test_approver_without_pii_export_is_refused(tree, actors, people):
    request = _request(actors, tree)
    with pytest.raises(PermissionDenied) as exc:
        exports.export_decide(actor=actors.worker_a1, request=request, approve=True)
    assert exc.value.message == exports.EXPORT_APPROVER_NOT_ALLOWED
    with pytest.raises(NotFound):
        exports.export_decide(actor=actors.worker_b1, request=request, approve=True)


def test_approval_is_version_checked_and_decided_once(tree, actors, people):
    request = _request(actors, tree)
    with pytest.raises(Conflict):
        exports.export_decide(actor=actors.admin, request=request, approve=True, version=request.version + 1)
    exports.export_decide(actor=actors.admin, request=request, approve=False, note="用途不明确")
    with pytest.raises(Conflict) as exc:
        exports.export_decide(actor=actors.admin, request=request, approve=True)
    assert exc.value.message == exports.EXPORT_NOT_PENDING


def test_approval_sets_expiry_audits_and_notifies_the_requester(tree, actors, people):
    request = _request(actors, tree)
    before = timezone.now()
    request = exports.export_decide(actor=actors.admin, request=request, approve=True, note="同意",
                                    version=request.version)
    assert request.status == ExportStatus.APPROVED and request.decided_by == actors.admin
    assert before + exports.APPROVAL_VALID_FOR <= request.expires_at <= timezone.now() + exports.APPROVAL_VALID_FOR
    entry = AuditEntry.objects.get(action=AuditAction.APPROVE)
    assert entry.actor == actors.admin and entry.outcome == "approved" and entry.reason == "同意"
    assert Notification.objects.filter(user=actors.head_a1, title__startswith="明文导出已批准").exists()


def test_unmasked_download_once_by_the_requester(tree, actors, people, written):
    request = _request(actors, tree)
    exports.export_decide(actor=actors.admin, request=request, approve=True)
    # the approver cannot take the file
    with pytest.raises(PermissionDenied) as exc:
        exports.export_download(actor=actors.admin, request=request)
    assert exc.value.message == exports.EXPORT_NOT_REQUESTER
    # the requester downloads it: full values, birth dates and rooms
    file = exports.export_download(actor=actors.head_a1, request=request)
    rows = written(file)
    assert rows[1] == ["序号", "姓名", "性别", "年龄", "出生日期", "身份证号", "联系电话", "住址", "人口类型", "标签"]
    by_name = {row[1]: row for row in rows[2:-2]}
    old = by_name["张秀英"]
    assert old[4] == "1940-01-01" and old[5] == people.old.id_number and old[6] == "13812345678"
    assert old[7] == "华阳路街道秀水居委会秀水小区1号楼0101室"
    assert "明文" in rows[-1][0] and not file.masked
    request.refresh_from_db()
    assert request.status == ExportStatus.USED and request.row_count == 2 and request.used_at is not None
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert entry.actor == actors.head_a1 and entry.reason == REASON
    assert entry.changes["masked"] is False and entry.changes["rows"] == 2 and entry.changes["request"] == request.pk
    # a second download is refused
    with pytest.raises(Conflict) as exc:
        exports.export_download(actor=actors.head_a1, request=request)
    assert exc.value.message == exports.EXPORT_ALREADY_USED
    assert AuditEntry.objects.filter(action=AuditAction.EXPORT).count() == 1


def test_pending_or_rejected_request_cannot_be_downloaded(tree, actors, people):
    request = _request(actors, tree)
    with pytest.raises(Conflict) as exc:
        exports.export_download(actor=actors.head_a1, request=request)
    assert exc.value.message == exports.EXPORT_NOT_APPROVED


def test_expired_approval_is_refused(tree, actors, people):
    request = _request(actors, tree)
    exports.export_decide(actor=actors.admin, request=request, approve=True)
    ExportRequest.objects.filter(pk=request.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    with pytest.raises(Conflict) as exc:
        exports.export_download(actor=actors.head_a1, request=request)
    assert exc.value.message == exports.EXPORT_EXPIRED
    request.refresh_from_db()
    assert request.status == ExportStatus.EXPIRED
    assert not AuditEntry.objects.filter(action=AuditAction.EXPORT).exists()


def test_filtered_people_request_keeps_its_filters(tree, actors, people, written):
    request = _request(actors, tree, ledger="people", filters={"tag": "disabled", "junk": "x"})
    assert request.filters == {"tag": "disabled"}
    exports.export_decide(actor=actors.admin, request=request, approve=True)
    rows = written(exports.export_download(actor=actors.head_a1, request=request))
    assert [r[1] for r in rows[2:-2]] == ["李国强"]
    assert rows[2][-1] == "残疾"


# --- Streaming --------------------------------------------------------------------------------------------


def test_export_of_5000_people_uses_a_bounded_number_of_queries(tree, actors, tags, written,
                                                                django_assert_max_num_queries):
    # given 5,000 people in A1, a third of them living alone
    units = [tree.a1_unit, tree.a1_unit2]
    batch = []
    for i in range(5000):
        person = Person(name=f"测试{i}", id_number=f.id_number(birth=dt.date(1940 + i % 60, 1, 1)),
                        phone=f"138{i:08d}", birth_date=dt.date(1940 + i % 60, 1, 1), place=units[i % 2],
                        residence_type=ResidenceType.REGISTERED, status=PersonStatus.ACTIVE)
        person.set_scope(person.place.path)
        batch.append(person)
    Person.objects.bulk_create(batch, batch_size=1000)
    digest = tags["living_alone"].digest
    PersonTag.objects.bulk_create(
        [PersonTag(person=p, tag_digest=digest, source="community") for p in batch[::3]], batch_size=1000
    )
    # when the worker exports them (masked), the queries do not grow with the rows
    with django_assert_max_num_queries(25):
        file = exports.export_masked(actor=actors.worker_a1, place=tree.a1, ledger=exports.LEDGERS["people"])
    rows = written(file)
    # then every person is in the workbook, masked
    assert file.row_count == 5000 and len(rows) == 5000 + 4
    assert rows[2][8] == "独居老人" and rows[3][8] is None
    assert not MOBILE_RE.search("".join(str(r[5]) for r in rows[2:-2]))


def test_audit_masks_a_name_filter(tree, actors, people, written):
    # given a people list filtered by a full name
    written(exports.export_masked(actor=actors.worker_a1, place=tree.a1, ledger=exports.LEDGERS["people"],
                                  filters={"q": "张秀英"}))
    # then the audit row keeps the filter masked, like every other name
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert entry.changes["filters"] == {"q": "张**"} and entry.changes["rows"] == 1
