"""Browser walk: a worker turns a meeting's decision into a case (转为工单) and sees its number on the meeting.
Screenshots: test-output/screenshots/delib-decision-case-<page>-<desktop|phone>.png.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from shequ.cases.categories import ensure_categories
from shequ.cases.choices import CaseSource
from shequ.cases.models import Case
from shequ.deliberation import meetings
from shequ.deliberation.choices import MeetingKind
from shequ.deliberation.models import Decision
from tests.e2e.conftest import DESKTOP, PHONE, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def shot(shot: Any) -> Any:
    """Scroll to the top first: a page reached through an #anchor would be captured mid-scroll."""

    def take(page: Any, name: str) -> Path:
        page.evaluate("window.scrollTo(0, 0)")
        return shot(page, name)

    return take


@pytest.fixture
def decision(tree: Any, actors: Any) -> Decision:
    ensure_categories()
    meeting = meetings.meeting_schedule(actor=actors.worker_a1, community=tree.a1, kind=MeetingKind.COORDINATION,
                                        title="停车协调会", starts_at=timezone.now() + dt.timedelta(days=1),
                                        location="居委会会议室")
    return meetings.decision_add(actor=actors.worker_a1, meeting=meeting, text="在3号楼东侧划线增设20个停车位",
                                 responsible=actors.grid_a1, due_on=timezone.localdate() + dt.timedelta(days=30))


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_worker_turns_a_decision_into_a_case(open_page: Any, decision: Decision, tree: Any, shot: Any,
                                             viewport: dict[str, int]) -> None:
    size = "phone" if viewport is PHONE else "desktop"
    worker = open_page(viewport)
    sign_in(worker, "worker_a1")
    worker.goto(f"/deliberation/meetings/{decision.meeting_id}/")
    shot(worker, f"delib-decision-case-before-{size}")
    worker.get_by_role("link", name="转为工单").click()
    worker.wait_for_url(re.compile(r"/deliberation/decisions/\d+/case/"))
    worker.get_by_label("问题类别").select_option(label="违规停车")
    worker.get_by_label("位置").select_option(label=f"{tree.a1_compound.name}（小区）")
    shot(worker, f"delib-decision-case-form-{size}")
    worker.get_by_role("button", name="转为工单").click()
    worker.wait_for_url(re.compile(rf"/deliberation/meetings/{decision.meeting_id}/"))
    case = Case.objects.get()
    assert (case.source, case.place, case.category.name) == (CaseSource.DECISION, tree.a1_compound, "违规停车")
    worker.wait_for_selector(f"text=已转为工单 {case.number}")
    row = worker.locator(f"#decision-{decision.pk} [data-testid=decision-case]")
    assert case.number in row.inner_text() and "待受理" in row.inner_text()
    shot(worker, f"delib-decision-case-meeting-{size}")
    row.get_by_role("link", name=case.number).click()
    worker.wait_for_url(f"**/cases/{case.pk}/")
