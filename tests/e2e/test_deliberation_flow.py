"""Browser walk of issue 5: proposal → supports → topic → meeting → owners' vote on phones → public result.

Every step goes through the pages; only the community's threshold rule is set through the service
(a small count, so two supports make a topic). Screenshots of the vote, disclosure and public pages
go to test-output/screenshots/ (votes-*, disclosure-*, public-*).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone

from shequ.deliberation import proposals as proposal_services
from shequ.deliberation.choices import ThresholdKind, VoteStatus
from shequ.deliberation.models import Notice, Proposal, Topic, Vote
from tests.deliberation.conftest import estate  # noqa: F401  (the shared fixture, used by name)
from tests.e2e.conftest import DESKTOP, PHONE, sign_in

pytestmark = pytest.mark.e2e


def _local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def _as(open_page: Any, username: str, viewport: dict[str, int]) -> Any:
    page = open_page(viewport)
    sign_in(page, username)
    return page


def test_proposal_to_published_vote_result(open_page: Any, estate: Any, actors: Any, shot: Any) -> None:  # noqa: F811
    community = estate.community
    # given the community makes two supports enough for a topic
    proposal_services.rules_update(actor=actors.worker_a1, community=community,
                                   threshold_kind=ThresholdKind.COUNT, threshold_count=2)

    # when 张 proposes on a phone
    zhang = _as(open_page, "owner_zhang", PHONE)
    zhang.goto("/deliberation/proposals/new/")
    zhang.get_by_label("标题").fill("更换3号楼老旧电梯")
    zhang.get_by_label("内容").fill("电梯已运行二十年，经常停运，建议使用维修资金更换。")
    zhang.get_by_role("button", name=re.compile("提交|发布|保存")).click()
    zhang.wait_for_url(re.compile(r"/deliberation/proposals/\d+/$"))
    proposal = Proposal.objects.get(title="更换3号楼老旧电梯")
    proposal_url = f"/deliberation/proposals/{proposal.pk}/"

    # and 李 and 王 support it on their phones
    for username in ("owner_li", "owner_wang"):
        neighbour = _as(open_page, username, PHONE)
        neighbour.goto(proposal_url)
        neighbour.get_by_role("button", name="我附议").click()
        neighbour.wait_for_load_state()
    # then it became a topic
    topic = Topic.objects.get(proposal=proposal)

    # when the community worker schedules a meeting with the topic
    worker = _as(open_page, "worker_a1", DESKTOP)
    worker.goto("/deliberation/meetings/new/")
    worker.get_by_label("会议名称").fill("电梯更换协调会")
    worker.get_by_label("开始时间").fill(_local(timezone.now() + dt.timedelta(days=1)))
    worker.get_by_label(topic.title).check()
    worker.get_by_role("button", name=re.compile("保存|安排|创建|提交")).click()
    worker.wait_for_url(re.compile(r"/deliberation/meetings/\d+/$"))
    assert topic.meetings.exists()

    # and creates an owners' vote attached to the topic, then opens it
    worker.goto(f"/deliberation/votes/new/?topic={topic.pk}")
    assert worker.get_by_label("表决事项").input_value() == topic.title
    worker.get_by_label(re.compile("小区业主")).check()
    worker.get_by_label("范围").select_option(label=f"{estate.compound.name}（小区）")
    worker.get_by_label("事项类别（业主表决）").select_option("ordinary")
    worker.get_by_label("开始时间").fill(_local(timezone.now() - dt.timedelta(minutes=1)))
    worker.get_by_label("截止时间").fill(_local(timezone.now() + dt.timedelta(days=7)))
    shot(worker, "votes-form-desktop")
    worker.get_by_role("button", name="保存草稿").click()
    worker.wait_for_url(re.compile(r"/deliberation/votes/\d+/$"))
    vote = Vote.objects.get(topic=topic)
    vote_url = f"/deliberation/votes/{vote.pk}/"
    shot(worker, "votes-draft-desktop")
    worker.get_by_role("button", name="开始投票").click()
    worker.get_by_text("投票已开始").wait_for()
    vote.refresh_from_db()
    assert vote.status == VoteStatus.OPEN

    # when the owners vote on their phones (张 first says 反对, then changes to 同意)
    for username, label in (("owner_zhang", "反对"), ("owner_zhang", "同意"), ("owner_li", "同意"),
                            ("owner_wang", "同意")):
        owner = _as(open_page, username, PHONE)
        owner.goto(vote_url)
        owner.get_by_role("button", name=label, exact=True).click()
        owner.get_by_text(f"已投票：{label}，可在截止前修改").first.wait_for()
    shot(owner, "votes-detail-voted-phone")
    owner.goto("/deliberation/votes/")
    shot(owner, "votes-list-phone")
    zhao = _as(open_page, "owner_zhao", PHONE)
    zhao.goto(vote_url)
    assert "已投票：同意" in zhao.content()  # co-owner of 王's unit sees the unit's ballot
    shot(zhao, "votes-detail-coowner-phone")

    # and the worker looks at turnout, opens the paper-ballot page, then closes the vote
    worker.goto(vote_url)
    shot(worker, "votes-detail-open-desktop")
    worker.get_by_role("link", name="录入纸质票").click()
    shot(worker, "votes-paper-desktop")
    worker.goto(vote_url)
    worker.on("dialog", lambda dialog: dialog.accept())
    worker.get_by_role("button", name="结束表决并计票").click()
    worker.get_by_text("表决已结束，结果已封存并在公示栏公布。").wait_for()
    shot(worker, "votes-result-desktop")
    vote.refresh_from_db()
    assert vote.status == VoteStatus.CLOSED and vote.result["carried"] is True

    # then anyone, without logging in, sees the published result on the community's board
    visitor = open_page(PHONE)
    visitor.goto(f"/c/{community.path}/")
    card = visitor.locator(".public-vote", has_text=vote.title)
    assert "通过" in card.inner_text()
    shot(visitor, "public-community-phone")
    card.click()
    visitor.get_by_text("表决通过").wait_for()
    text = visitor.content()
    # 3 of 4 heads (the developer's unsold units did not vote) and 321 of 481 m² took part, all said yes
    assert "3 ÷ 4 = 3/4" in text and "321.00 ÷ 481.00 = 321/481" in text
    assert "3 ÷ 3 = 1/1" in text and "321.00 ÷ 321.00 = 1/1" in text
    for person in vars(estate.owners).values():
        assert person.name not in text
    shot(visitor, "public-vote-phone")
    desktop = open_page(DESKTOP)
    desktop.goto(f"/c/{community.path}/votes/{vote.pk}/")
    shot(desktop, "public-vote-desktop")


def test_disclosure_pages(open_page: Any, estate: Any, actors: Any, shot: Any) -> None:  # noqa: F811
    community = estate.community
    worker = _as(open_page, "worker_a1", DESKTOP)
    worker.get_by_role("navigation", name="主导航").get_by_role("link", name="居务公开").click()
    worker.wait_for_url("**/deliberation/notices/")
    worker.get_by_role("link", name="发布公开事项").click()
    worker.get_by_label("公开类别").select_option(label="财务公开")
    worker.get_by_label("标题").fill("2026年三季度居委会收支情况")
    worker.get_by_label("内容").fill("收入：社区工作经费 25,000 元。\n支出：活动物资 8,200 元，办公 3,100 元。")
    worker.get_by_label("公示天数").fill("7")
    worker.get_by_role("button", name="公开").click()
    worker.get_by_text("“财务公开”的公示期不少于30天。").wait_for()
    shot(worker, "disclosure-form-error-desktop")
    worker.get_by_label("公示天数").fill("30")
    worker.get_by_role("button", name="公开").click()
    worker.wait_for_url(re.compile(r"/deliberation/notices/\d+/$"))
    notice = Notice.objects.get()
    worker.get_by_role("link", name="发布更正").click()
    worker.get_by_label("内容").fill("收入：社区工作经费 25,000 元。\n支出：活动物资 8,200 元，办公 3,600 元。")
    worker.get_by_label("更正说明").fill("办公支出少记一张 500 元发票")
    shot(worker, "disclosure-correct-desktop")
    worker.get_by_role("button", name="发布更正").click()
    worker.get_by_text("已发布更正").wait_for()
    shot(worker, "disclosure-detail-desktop")
    worker.goto("/deliberation/notices/")
    shot(worker, "disclosure-list-desktop")
    phone = _as(open_page, "worker_a1", PHONE)
    phone.goto("/deliberation/notices/new/")
    shot(phone, "disclosure-form-phone")

    visitor = open_page(PHONE)
    visitor.goto(f"/c/{community.path}/")
    visitor.get_by_role("link", name=re.compile("三季度居委会收支")).click()
    visitor.get_by_text("办公支出少记一张 500 元发票").first.wait_for()
    assert "办公 3,100 元" in visitor.content() and "办公 3,600 元" in visitor.content()
    shot(visitor, "public-notice-phone")
    visitor.goto(f"/c/{community.path}/")
    shot(visitor, "public-community-notices-phone")
    desktop = open_page(DESKTOP)
    desktop.goto(f"/c/{community.path}/")
    shot(desktop, "public-community-desktop")
    desktop.goto(f"/c/{community.path}/notices/{notice.pk}/")
    shot(desktop, "public-notice-desktop")
