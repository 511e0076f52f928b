"""Browser walk: a proposal with a photo gathers supports, becomes a topic, goes to a meeting with attendance,
minutes and a decision that is followed to done; the inbox tells the proposer. Desktop and phone screenshots:
test-output/screenshots/delib-<page>-<desktop|phone>.png.
"""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

from shequ.deliberation import proposals
from shequ.deliberation.choices import ProposalStatus, ThresholdKind
from shequ.deliberation.models import Attendance, Decision, Meeting, Proposal
from tests.deliberation.conftest import estate as estate_fixture
from tests.e2e.conftest import DESKTOP, PHONE, sign_in

pytestmark = pytest.mark.e2e
estate = estate_fixture  # the deliberation fixture (compound A1 with owners and verified residents)


def _png(path: Path, width: int = 160, height: int = 120) -> Path:
    """A small real PNG (a sky-blue picture with a darker band) so the photo shows in screenshots."""
    rows = b""
    for y in range(height):
        colour = b"\x4c\x8d\xf6" if y < height * 2 // 3 else b"\x8e\x1b\x21"
        rows += b"\x00" + colour * width

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
                     + chunk(b"IEND", b""))
    return path


@pytest.fixture
def shot(shot: Any) -> Any:
    """Scroll to the top first: a page reached through an #anchor would be captured mid-scroll."""

    def take(page: Any, name: str) -> Path:
        page.evaluate("window.scrollTo(0, 0)")
        return shot(page, name)

    return take


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def test_proposal_to_topic_to_meeting_to_done(
    open_page: Any,
    estate: Any,  # noqa: F811
    actors: Any,
    shot: Any,
    tmp_path: Path,
) -> None:
    proposals.rules_update(actor=actors.worker_a1, community=estate.community, threshold_kind=ThresholdKind.COUNT,
                           threshold_count=2)
    # 张 proposes with a photo (desktop)
    zhang = open_page(DESKTOP)
    sign_in(zhang, "owner_zhang")
    zhang.get_by_role("navigation", name="主导航").get_by_role("link", name="议事").click()
    zhang.wait_for_url("**/deliberation/proposals/")
    zhang.get_by_role("link", name="我要提案").click()
    zhang.get_by_label("标题").fill("1号楼加装电梯")
    zhang.get_by_label("内容").fill("1号楼住着很多高龄老人，上下楼困难，建议加装电梯，费用按楼层分摊。")
    zhang.get_by_label("类别").fill("加装电梯")
    zhang.get_by_label("照片").set_input_files(str(_png(tmp_path / "stairs.png")))
    shot(zhang, "delib-proposal-form-desktop")
    zhang.get_by_role("button", name="提交提案").click()
    zhang.wait_for_url(re.compile(r"/deliberation/proposals/\d+/$"))
    assert "附议 0 / 2" in zhang.locator("[data-testid=support-count]").inner_text()
    shot(zhang, "delib-proposal-detail-desktop")
    proposal = Proposal.objects.get()

    # 李 supports and comments on a phone
    li = open_page(PHONE)
    sign_in(li, "owner_li")
    li.goto(f"/deliberation/proposals/{proposal.pk}/")
    li.get_by_role("button", name="我附议").click()
    li.wait_for_selector("text=附议成功")
    li.get_by_label("发表评论").fill("支持！我家老人每天爬六楼。")
    li.get_by_role("button", name="发表").click()
    li.wait_for_selector("text=评论已发表")
    shot(li, "delib-proposal-detail-phone")
    li.goto("/deliberation/proposals/")
    shot(li, "delib-proposal-list-phone")

    # 王 supports: the threshold is reached and the proposal becomes a topic
    wang = open_page(PHONE)
    sign_in(wang, "owner_wang")
    wang.goto(f"/deliberation/proposals/{proposal.pk}/")
    wang.get_by_role("button", name="我附议").click()
    wang.wait_for_selector("text=已成为社区议题")
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.TOPIC

    # the worker moderates, sees the agenda and schedules a meeting (desktop)
    worker = open_page(DESKTOP)
    sign_in(worker, "worker_a1")
    worker.goto("/deliberation/proposals/")
    shot(worker, "delib-proposal-list-desktop")
    worker.goto("/deliberation/topics/")
    shot(worker, "delib-topics-desktop")
    worker.goto("/deliberation/meetings/new/")
    worker.get_by_label("会议类型").select_option(label="听证会")
    worker.get_by_label("会议名称").fill("1号楼加装电梯听证会")
    worker.get_by_label("开始时间").fill("2030-05-01T19:00")
    worker.get_by_label("地点").fill("居委会二楼会议室")
    worker.get_by_label("1号楼加装电梯").check()
    worker.get_by_label("居民", exact=True).check()
    shot(worker, "delib-meeting-form-desktop")
    worker.get_by_role("button", name="安排并通知").click()
    worker.wait_for_url(re.compile(r"/deliberation/meetings/\d+/$"))
    meeting = Meeting.objects.get()

    # paper sign-in entered by staff
    worker.get_by_text("录入纸质签到").click()
    worker.get_by_label("或填写姓名/单位").fill("物业王经理")
    worker.get_by_role("button", name="录入", exact=True).click()
    worker.wait_for_selector("text=已录入纸质签到")
    assert Attendance.objects.filter(meeting=meeting, source="paper").count() == 1

    # 张 signs in online on a phone and sees the unread badge
    zhang_phone = open_page(PHONE)
    sign_in(zhang_phone, "owner_zhang")
    zhang_phone.goto(f"/deliberation/meetings/{meeting.pk}/")
    zhang_phone.get_by_role("button", name="线上签到").click()
    zhang_phone.wait_for_selector("text=您已签到")
    shot(zhang_phone, "delib-meeting-resident-phone")
    assert int(zhang_phone.locator("[data-testid=unread-count]").inner_text()) >= 2  # topic + invitation
    zhang_phone.goto("/inbox/")
    shot(zhang_phone, "delib-inbox-phone")
    zhang_phone.get_by_role("button", name="全部标为已读").click()
    zhang_phone.wait_for_selector("text=条消息标为已读")
    assert zhang_phone.locator("[data-testid=unread-count]").count() == 0

    # minutes with an attachment, published; then a decision with a responsible and a due date
    worker.goto(f"/deliberation/meetings/{meeting.pk}/minutes/")
    worker.get_by_label("会议纪要").fill("到会居民一致同意加装电梯，费用按楼层分摊，由居委会协调施工方案。")
    worker.get_by_label("在社区公开页面公开纪要和决议").check()
    worker.get_by_label("附件").set_input_files(str(_png(tmp_path / "sign-sheet.png")))
    shot(worker, "delib-minutes-form-desktop")
    worker.get_by_role("button", name="保存纪要").click()
    worker.wait_for_selector("text=会议纪要已保存")
    worker.get_by_text("记录决议").click()
    worker.get_by_label("决议内容").fill("委托居委会联系施工单位，出具加装电梯方案。")
    worker.get_by_label("责任人").select_option(label="秀水网格员")
    worker.get_by_label("完成期限").fill("2030-06-30")
    worker.get_by_role("button", name="保存决议").click()
    worker.wait_for_selector("text=决议已记录")
    shot(worker, "delib-meeting-detail-desktop")
    phone_worker = open_page(PHONE)
    sign_in(phone_worker, "worker_a1")
    phone_worker.goto(f"/deliberation/meetings/{meeting.pk}/")
    shot(phone_worker, "delib-meeting-detail-phone")

    # the responsible grid worker completes it from the follow-up list
    grid = open_page(PHONE)
    sign_in(grid, "grid_a1")
    grid.goto("/deliberation/decisions/")
    shot(grid, "delib-decisions-phone")
    grid.get_by_text("完成", exact=True).click()
    grid.get_by_label("落实情况").fill("已出具方案并在楼道公示。")
    grid.get_by_role("button", name="确认完成").click()
    grid.wait_for_selector("text=决议已标记为完成")
    assert Decision.objects.get().status == "done"
    worker.goto("/deliberation/decisions/")
    shot(worker, "delib-decisions-desktop")
