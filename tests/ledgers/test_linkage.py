"""Record linkage: normalisation, the Splink model on a small generated scope, thresholds, re-runs."""

from __future__ import annotations

import datetime as dt

import pytest

from shequ.core.errors import NotFound, PermissionDenied
from shequ.core.models import AuditAction, AuditEntry
from shequ.ledgers import linkage
from shequ.ledgers.choices import LinkRunStatus, LinkStatus
from shequ.ledgers.models import LinkCandidate, LinkRun, PersonMerge
from shequ.ledgers.normalise import name_forms, name_key, name_pinyin, surname_pinyin
from shequ.registry.choices import PersonStatus
from shequ.registry.models import Person
from tests import factories as f


def test_name_key_strips_separators_widths_and_traditional_characters():
    assert name_key(" 張 偉 ") == "张伟"
    assert name_key("阿依古丽·买买提") == "阿依古丽买买提"
    assert name_key("阿依古丽•买买提") == "阿依古丽买买提"
    assert name_key("ＡＢＣ　王") == "abc王"
    assert name_key("") == ""


def test_pinyin_makes_homophones_equal():
    assert name_pinyin("张伟") == name_pinyin("张玮") == name_pinyin("張偉") == "zhangwei"
    assert surname_pinyin("李国强") == "li"
    assert name_forms("劉德華") == name_forms("刘德华")
    assert name_forms("").key == ""


def _person(place, name, birth, *, sex="male", phone="", id_number=""):  # type: ignore[no-untyped-def]
    return f.person(place, name=name, birth_date=birth, sex=sex, phone=phone, id_number=id_number)


@pytest.fixture
def scope(tree):
    """Community A1 with known duplicates and a namesake; one look-alike in A2, out of the run's scope."""
    b = dt.date
    people = {
        "wei": _person(tree.a1_unit, "张伟明", b(1956, 3, 7), phone="13812345678"),
        "wei_homophone": _person(tree.a1_unit, "张玮明", b(1956, 3, 7)),
        "guo": _person(tree.a1_unit2, "李国强", b(1948, 11, 2), phone="13900001111"),
        "guo_traditional": _person(tree.a1_unit2, "李國強", b(1948, 11, 2), phone="13900001111"),
        "hua": _person(tree.a1_unit, "王秀华", b(1962, 5, 14), sex="female"),
        "hua_swapped": _person(tree.a1_unit, "王秀华", b(1962, 5, 41 - 27), sex="female", phone="13700002222"),
        "namesake": _person(tree.a1_unit2, "陈建国", b(1950, 1, 1)),
        "namesake_other": _person(tree.a1_unit2, "陈建国", b(1977, 8, 30)),
        "with_id": _person(tree.a1_unit, "赵敏", b(1950, 3, 7), sex="female",
                           id_number=f.id_number(birth=b(1950, 3, 7), sex="female")),
        "with_other_id": _person(tree.a1_unit, "赵敏", b(1950, 3, 7), sex="female",
                                 id_number=f.id_number(birth=b(1950, 3, 7), sex="female")),
    }
    people["elsewhere"] = _person(tree.a2_unit, "张伟明", b(1956, 3, 7))
    return people


def _pair(a: Person, b: Person) -> LinkCandidate | None:
    left, right = sorted((a.pk, b.pk))
    return LinkCandidate.objects.filter(left_id=left, right_id=right).first()


def test_scores_known_duplicates_high_and_namesakes_low(tree, scope):
    # given the people of A1 in DuckDB
    import duckdb

    con = duckdb.connect()
    records = linkage.load_people(con, tree.a1)
    # when the model scores every blocked pair
    _compared, pairs = linkage.score_pairs(con, records, threshold=0.0)
    scores = {(p.left_id, p.right_id): p for p in pairs}

    def prob(a: str, b: str) -> float:
        key = tuple(sorted((scope[a].pk, scope[b].pk)))
        return scores[key].probability if key in scores else 0.0

    # then the duplicates are likely and the namesakes with other birth dates are not
    assert records == 10
    assert prob("wei", "wei_homophone") >= 0.8
    assert prob("guo", "guo_traditional") >= 0.99
    assert scores[tuple(sorted((scope["guo"].pk, scope["guo_traditional"].pk)))].details["name"] == "exact"
    assert prob("namesake", "namesake_other") < 0.8
    # pairs where both carry an ID number are never compared
    assert tuple(sorted((scope["with_id"].pk, scope["with_other_id"].pk))) not in scores
    assert all(scope["elsewhere"].pk not in key for key in scores)


def test_swapped_birth_digits_still_link(tree):
    a = _person(tree.a1_unit, "周丽娟", dt.date(1953, 12, 21), sex="female", phone="13600001234")
    b = _person(tree.a1_unit, "周丽娟", dt.date(1953, 12, 12), sex="female", phone="13600001234")
    import duckdb

    con = duckdb.connect()
    records = linkage.load_people(con, tree.a1)
    _compared, pairs = linkage.score_pairs(con, records, threshold=0.0)
    found = {(p.left_id, p.right_id): p for p in pairs}
    pair = found[(a.pk, b.pk)]
    assert pair.details["birth_date"] == "close"
    assert pair.probability >= 0.8


def test_run_merges_sure_pairs_and_queues_likely_ones(tree, actors, scope, settings):
    # given thresholds where the exact-name pair is sure and the homophone pair only likely
    settings.SHEQU_LINK_AUTO_MERGE = 0.999
    settings.SHEQU_LINK_REVIEW = 0.5
    run = linkage.link_run(actor=actors.worker_a1, place=tree.a1)
    assert run.status == LinkRunStatus.DONE
    assert run.records == 10 and run.pairs_compared > 0
    guo = _pair(scope["guo"], scope["guo_traditional"])
    assert guo is not None and guo.status == LinkStatus.AUTO_MERGED
    merged = Person.objects.get(pk=max(scope["guo"].pk, scope["guo_traditional"].pk))
    assert merged.status == PersonStatus.MERGED
    assert PersonMerge.objects.filter(candidate=guo, automatic=True).exists()
    assert AuditEntry.objects.filter(action=AuditAction.MERGE).count() == run.auto_merged
    wei = _pair(scope["wei"], scope["wei_homophone"])
    assert wei is not None and wei.status in {LinkStatus.PENDING, LinkStatus.AUTO_MERGED}
    assert _pair(scope["namesake"], scope["namesake_other"]) is None
    assert run.candidates == run.auto_merged + run.queued
    # details hold comparison levels only, never a value
    assert set(guo.details) == {"name", "birth_date", "address", "sex", "phone"}
    assert "李" not in str(guo.details)


def test_pending_pairs_are_updated_and_separated_pairs_never_proposed_again(tree, actors, scope, settings):
    settings.SHEQU_LINK_AUTO_MERGE = 1.01  # nothing merges automatically
    settings.SHEQU_LINK_REVIEW = 0.5
    first = linkage.link_run(actor=actors.worker_a1, place=tree.a1)
    pending = list(LinkCandidate.objects.filter(status=LinkStatus.PENDING))
    assert pending and first.queued == len(pending)
    separated = pending[0]
    LinkCandidate.objects.filter(pk=separated.pk).update(status=LinkStatus.SEPARATED)
    second = linkage.link_run(actor=actors.worker_a1, place=tree.a1)
    assert LinkCandidate.objects.count() == len(pending)  # updated, not duplicated
    assert LinkCandidate.objects.get(pk=separated.pk).status == LinkStatus.SEPARATED
    assert second.queued == len(pending) - 1
    assert LinkCandidate.objects.filter(status=LinkStatus.PENDING, run=second).count() == len(pending) - 1


def test_run_needs_edit_rights_at_the_place(tree, actors, scope):
    with pytest.raises(NotFound):
        linkage.link_run(actor=actors.worker_b1, place=tree.a1)
    with pytest.raises(PermissionDenied):
        linkage.link_run(actor=actors.grid_a1, place=tree.a1)
    assert not LinkRun.objects.exists()


def test_a_failing_run_is_recorded_and_applies_nothing(tree, actors, scope, monkeypatch):
    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    monkeypatch.setattr(linkage, "score_pairs", broken)
    run = linkage.link_run(actor=actors.worker_a1, place=tree.a1)
    assert run.status == LinkRunStatus.FAILED
    assert run.failure == "比对失败：RuntimeError"
    assert not LinkCandidate.objects.exists()
