"""Browser walk: a community worker gives an address for 邮件提醒 on the inbox page, on a phone, and the
next reminder reaches a real SMTP server (aiosmtpd on 127.0.0.1). Screenshots:
test-output/screenshots/inbox-email-<desktop|phone>.png.
"""

from __future__ import annotations

from typing import Any

import pytest

from shequ.core.delivery import notifications_deliver
from shequ.core.notifications import notify
from tests.core.fixtures_mail import *  # noqa: F403 (the smtp fixture)
from tests.core.fixtures_mail import Mailbox
from tests.e2e.conftest import DESKTOP, PHONE, sign_in

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_worker_turns_on_email_reminders_and_gets_the_next_one(open_page: Any, actors: Any, smtp: Mailbox,
                                                                shot: Any, viewport: dict[str, int]) -> None:
    size = "phone" if viewport is PHONE else "desktop"
    notify(users=[actors.worker_a1], title="新工单待受理：SQ20261123-000001 楼道堆物", body="请及时受理。",
           link="/cases/")
    worker = open_page(viewport)
    sign_in(worker, "worker_a1")
    worker.goto("/inbox/")
    worker.get_by_label("接收提醒的电子邮箱").fill("not-an-address")
    worker.get_by_role("button", name="保存").click()
    assert worker.get_by_text("请输入有效的电子邮箱地址").is_visible()
    worker.get_by_label("接收提醒的电子邮箱").fill("xiushui.worker@example.cn")
    worker.get_by_role("button", name="保存").click()
    worker.wait_for_load_state()
    assert worker.get_by_label("接收提醒的电子邮箱").input_value() == "xiushui.worker@example.cn"
    worker.evaluate("window.scrollTo(0, 0)")
    shot(worker, f"inbox-email-{size}")
    # the worker's next sweep mails the waiting reminder
    assert notifications_deliver()["sent"] == 1
    assert [m["to"] for m in smtp.messages] == ["xiushui.worker@example.cn"]
