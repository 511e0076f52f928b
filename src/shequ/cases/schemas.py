"""Schemas of the cases API (工单接口).

Input schemas forbid unknown fields (400). A case comes out with its reporter masked (hidden when the
report is anonymous to the viewer) and the contact phone masked; the clear phone never leaves the
platform through this API.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field

from shequ.cases.choices import CaseSource, CaseState, DispatchState
from shequ.registry.schemas import Id, Lat, Lon, Page, Text100, Text200, Text2000, Version

# Sources a person may state when reporting; ``sensor`` and ``open311`` are set by their own channels.
REPORT_SOURCES = (CaseSource.RESIDENT, CaseSource.GRID_PATROL, CaseSource.HOTLINE, CaseSource.WORKER)


class In(Schema):
    model_config = ConfigDict(extra="forbid")


class CaseCreate(In):
    category: str = Field(max_length=40, pattern=r"^[-a-zA-Z0-9_]+$", description="事项类别标识（二级类别）")
    title: Text100
    description: Text2000 = ""
    source: CaseSource = Field(CaseSource.RESIDENT, description="来源：resident/grid_patrol/hotline/worker")
    lon: Lon | None = None
    lat: Lat | None = None
    place: Id | None = Field(None, description="位置（小区、楼栋等）编号")
    address: Text200 = ""
    anonymous: bool = Field(False, description="对其他居民匿名")
    contact_phone: str = Field("", max_length=20, description="联系电话（加密保存，输出时脱敏）")


class CaseActionIn(In):
    version: Version
    note: Text2000 = ""
    payload: dict[str, Any] = Field(default_factory=dict, description="动作参数，如 reason、assignee、result、tasks")


class DispatchStepIn(In):
    version: Version | None = Field(None, description="派单的版本号（可选）；已被他人修改时返回409")


class DispatchReportIn(DispatchStepIn):
    report: Text2000


class DispatchReturnIn(DispatchStepIn):
    reason: Text200


class CaseQuery(Page):
    state: CaseState | None = None
    category: str | None = Field(None, max_length=40, description="类别标识（一级类别含下级）")
    grid: Id | None = None
    within: Id | None = Field(None, description="区域编号（含下级）")
    source: CaseSource | None = None
    overdue: bool | None = None
    since: dt.date | None = Field(None, description="上报日期起（含）")
    until: dt.date | None = Field(None, description="上报日期止（含）")
    q: str = Field("", max_length=100, description="编号、标题、描述中的关键词")


class FiguresQuery(Schema):
    within: Id | None = Field(None, description="区域编号（含下级）")
    since: dt.date | None = None
    until: dt.date | None = None
    period: str = Field("day", pattern=r"^(day|week|month)$", description="分期：day/week/month")


class ReporterOut(Schema):
    id: int | None = None
    name: str = Field(description="脱敏姓名；对其他居民匿名时为“匿名”")


class AttachmentOut(Schema):
    id: int
    name: str
    mime_type: str
    size: int


class EventOut(Schema):
    at: dt.datetime
    actor: str
    action: str
    from_state: str
    to_state: str
    note: str
    data: dict[str, Any]


class DispatchOut(Schema):
    id: int
    department_id: int
    department_name: str
    task: str
    due_at: dt.datetime
    checkin_due_at: dt.datetime
    state: DispatchState
    checked_in_at: dt.datetime | None = None
    reported_at: dt.datetime | None = None
    report: str
    return_reason: str
    override_reason: str
    overdue: bool
    version: int


class CaseOut(Schema):
    id: int
    number: str
    category: str
    category_name: str
    title: str
    description: str
    source: CaseSource
    state: CaseState
    state_label: str
    reporter: ReporterOut | None = None
    anonymous: bool
    contact_phone_masked: str
    place_id: int
    place_name: str
    community_id: int | None = None
    grid_id: int | None = None
    lon: float | None = None
    lat: float | None = None
    address: str
    assignee_id: int | None = None
    assignee_name: str = ""
    accept_due_at: dt.datetime | None = None
    resolve_due_at: dt.datetime | None = None
    accepted_at: dt.datetime | None = None
    resolved_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    result: str
    rating: int | None = None
    near_due: bool
    overdue: bool
    merged_into_id: int | None = None
    created_at: dt.datetime
    version: int


class CaseDetailOut(CaseOut):
    allowed_actions: list[str]
    timeline: list[EventOut]
    dispatches: list[DispatchOut]
    attachments: list[AttachmentOut]


class CasePage(Schema):
    count: int
    items: list[CaseOut]


class AlertIn(In):
    device_id: str = Field(max_length=64)
    kind: str = Field(max_length=32, pattern=r"^[-a-zA-Z0-9_]+$")
    value: Decimal | None = Field(None, max_digits=12, decimal_places=3, allow_inf_nan=False)
    time: dt.datetime | None = Field(None, description="发生时间（ISO 8601，含时区）；缺省为接收时间")


class AlertOut(Schema):
    id: int
    device_id: str
    kind: str
    fired: bool = Field(description="是否触发告警规则")
    case_id: int | None = None
    case_number: str | None = None
    opened: bool = Field(description="true：新开工单；false：并入已有工单或未触发")
