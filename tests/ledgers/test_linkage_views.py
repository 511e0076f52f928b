"""Record-linkage pages: the queue shows masked pairs, decisions and undo go through the services, scope is 404."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.urls import reverse

from shequ.ledgers import merges
from shequ.ledgers.choices import LinkStatus
from shequ.ledgers.models import LinkCandidate, LinkRun, PersonMerge
from shequ.registry.choices import PersonStatus
from tests import factories as f


@pytest.fixture
def candidate(tree):
    a = f.person(tree.a1_unit, name="张伟明", birth_date=dt.date(1956, 3, 7), sex="male", phone="13812345678")
    b = f.person(tree.a1_unit, name="张玮明", birth_date=dt.date(1956, 3, 7), sex="male")
    c = LinkCandidate(left=a, right=b, probability=0.9312,
                      details={"name": "pinyin", "birth_date": "exact", "address": "unit", "sex": "same",
                               "phone": "null"})
    c.set_scope(tree.a1.path)
    c.save()
    return c


def signed_in(client, user):  # type: ignore[no-untyped-def]
    client.force_login(user)
    return client


def test_queue_shows_masked_pairs_with_evidence(client, actors, candidate):
    response = signed_in(client, actors.worker_a1).get(reverse("ledgers:link_queue"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "93.1%" in html and "张**" in html and "1956" in html
    assert "张伟明" not in html and "1956-03-07" not in html and "13812345678" not in html
    assert "姓名同音" in html and "出生日期相同" in html and "同一户" in html
    assert "开始比对" in html


def test_queue_of_another_community_is_empty_and_decisions_404(client, actors, candidate):
    c = signed_in(client, actors.worker_b1)
    assert "张**" not in c.get(reverse("ledgers:link_queue")).content.decode()
    response = c.post(reverse("ledgers:link_decide", args=[candidate.pk]), {"decision": "same", "version": 1})
    assert response.status_code == 404
    candidate.refresh_from_db()
    assert candidate.status == LinkStatus.PENDING


def test_merge_from_the_queue_then_undo(client, actors, candidate):
    c = signed_in(client, actors.worker_a1)
    response = c.post(reverse("ledgers:link_decide", args=[candidate.pk]), {"decision": "same", "version": 1})
    assert response.status_code == 302
    merge = PersonMerge.objects.get(candidate=candidate)
    assert merge.merged.status == PersonStatus.MERGED
    listing = c.get(reverse("ledgers:merge_list")).content.decode()
    assert "撤销合并" in listing
    assert signed_in(client, actors.worker_b1).post(reverse("ledgers:merge_undo", args=[merge.pk])).status_code == 404
    c = signed_in(client, actors.worker_a1)
    c.post(reverse("ledgers:merge_undo", args=[merge.pk]))
    merge.refresh_from_db()
    assert merge.undone_at is not None


def test_stale_decision_shows_the_conflict(client, actors, candidate):
    c = signed_in(client, actors.worker_a1)
    response = c.post(reverse("ledgers:link_decide", args=[candidate.pk]), {"decision": "different", "version": 9},
                      follow=True)
    assert "数据已被他人修改" in response.content.decode()
    candidate.refresh_from_db()
    assert candidate.status == LinkStatus.PENDING


def test_separate_from_the_queue(client, actors, candidate):
    c = signed_in(client, actors.worker_a1)
    c.post(reverse("ledgers:link_decide", args=[candidate.pk]), {"decision": "different", "version": 1})
    candidate.refresh_from_db()
    assert candidate.status == LinkStatus.SEPARATED


def test_run_from_the_page_and_out_of_scope_run(client, actors, candidate, tree):
    c = signed_in(client, actors.worker_a1)
    response = c.post(reverse("ledgers:link_run"), {"place": tree.a1.pk}, follow=True)
    assert "比对完成" in response.content.decode()
    assert LinkRun.objects.filter(place=tree.a1).count() == 1
    c.post(reverse("ledgers:link_run"), {"place": tree.b1.pk})
    assert not LinkRun.objects.filter(place=tree.b1).exists()


def test_grid_worker_cannot_open_the_queue(client, actors, candidate):
    assert signed_in(client, actors.grid_a1).get(reverse("ledgers:link_queue")).status_code == 403


def test_link_command_prints_counts(tree, actors, candidate, capsys):
    call_command("link", "--place", tree.a1.path, "--user", "worker_a1")
    out = capsys.readouterr().out
    assert "人数：2" in out and "自动合并" in out


def test_unmerge_message_constant_is_chinese():
    assert str(merges.UNMERGE_SURVIVOR_CHANGED).startswith("合并后")
