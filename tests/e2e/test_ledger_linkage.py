"""Browser walk through record linkage: run it, review the queue, merge a pair, undo the merge."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from shequ.ledgers.choices import LinkStatus
from shequ.ledgers.models import LinkCandidate, PersonMerge
from shequ.registry.choices import PersonStatus
from shequ.registry.models import Person
from tests import factories as f
from tests.e2e.conftest import PHONE, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def lookalikes(tree: Any, settings: Any) -> dict[str, Person]:
    """A homophone pair (likely, queued) and a traditional-character pair (sure, merged automatically)."""
    settings.SHEQU_LINK_AUTO_MERGE = 0.9999
    settings.SHEQU_LINK_REVIEW = 0.5
    b = dt.date
    return {
        "wei": f.person(tree.a1_unit, name="张伟明", birth_date=b(1956, 3, 7), sex="male"),
        "wei_homophone": f.person(tree.a1_unit2, name="张玮明", birth_date=b(1956, 3, 7), sex="male"),
        "guo": f.person(tree.a1_unit2, name="李国强", birth_date=b(1948, 11, 2), sex="male", phone="13900001111"),
        "guo_traditional": f.person(tree.a1_unit2, name="李國強", birth_date=b(1948, 11, 2), sex="male",
                                    phone="13900001111"),
        "namesake": f.person(tree.a1_unit, name="陈建国", birth_date=b(1950, 1, 1), sex="male"),
        "namesake_other": f.person(tree.a1_unit2, name="陈建国", birth_date=b(1977, 8, 30), sex="male"),
    }


def test_worker_runs_linkage_merges_a_pair_and_undoes_it(page: Any, lookalikes: Any, actors: Any, shot: Any) -> None:
    # given a community worker of 秀水居委会 on the linkage page
    sign_in(page, "worker_a1")
    page.goto("/ledgers/linkage/")
    assert page.get_by_text("没有待核对的疑似重复。").is_visible()
    # when they start a run for their community
    page.get_by_role("button", name="开始比对").click()
    page.wait_for_selector(".msg-success")
    assert "比对完成" in page.locator(".msg-success").inner_text()
    shot(page, "linkage-queue-desktop")
    # then the traditional-character pair was merged automatically and the homophone pair waits, masked
    cards = page.locator(".pair-card")
    assert cards.count() >= 1
    assert "张伟明" not in page.content() and "1956-03-07" not in page.content()
    assert "张**" in cards.first.inner_text() and "1956" in cards.first.inner_text()
    assert "姓名同音" in cards.first.inner_text()
    homophone = LinkCandidate.objects.get(status=LinkStatus.PENDING, left__name="张伟明")
    # when they merge it
    page.locator(f"[data-testid=pair-{homophone.pk}]").get_by_role("button", name="合并").click()
    page.wait_for_selector(".msg-success")
    assert "已合并" in page.locator(".msg-success").inner_text()
    merged = Person.objects.get(pk=lookalikes["wei_homophone"].pk)
    assert merged.status == PersonStatus.MERGED
    # then both merges are listed, with an undo button each
    page.get_by_role("link", name="合并记录").click()
    assert page.locator("tbody tr").count() == 2
    assert page.get_by_text("自动", exact=True).count() == 1
    shot(page, "linkage-merges-desktop")
    # when they undo the manual merge
    merge = PersonMerge.objects.get(candidate=homophone)
    page.locator(f"[data-testid=merge-{merge.pk}]").get_by_role("button", name="撤销合并").click()
    page.wait_for_selector(".msg-success")
    assert "已撤销合并" in page.locator(".msg-success").inner_text()
    shot(page, "linkage-merges-undone-desktop")
    merged.refresh_from_db()
    assert merged.status == PersonStatus.ACTIVE and merged.merged_into_id is None


def test_queue_on_a_phone(open_page: Any, lookalikes: Any, actors: Any, shot: Any, settings: Any) -> None:
    settings.SHEQU_LINK_AUTO_MERGE = 1.01  # nothing merges by itself: both pairs wait
    page = open_page(PHONE)
    sign_in(page, "worker_a1")
    page.goto("/ledgers/linkage/")
    page.get_by_role("button", name="开始比对").click()
    page.wait_for_selector(".pair-card")
    shot(page, "linkage-queue-phone")
    assert page.locator(".pair-card").count() == 2
    page.locator(".pair-card").last.get_by_role("button", name="不是同一人").click()
    page.wait_for_selector(".msg-success")
    assert page.locator(".pair-card").count() == 1
    assert LinkCandidate.objects.filter(status=LinkStatus.SEPARATED).count() == 1
