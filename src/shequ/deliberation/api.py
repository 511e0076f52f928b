"""Votes API (表决): list and read votes, cast a ballot, read one's own ballot; a decision (决议) opened as a case.

Each endpoint loads through ``vote_selectors`` (scoped to ``request.auth``: another compound's vote
answers 404), calls one service of ``votes`` and shapes the answer. A vote's ``result`` appears once
it is closed; while it is open only the turnout (no options) is shown. No endpoint pairs a voter with
their option, except ``my-ballot`` for the voter themself.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict, Field

from shequ.cases.api import category_from_slug
from shequ.core.api_errors import ErrorOut
from shequ.deliberation import deliberation_selectors, meetings, vote_selectors, votes
from shequ.deliberation.choices import Electorate, VoteStatus
from shequ.deliberation.models import Ballot, Vote
from shequ.registry import selectors as registry_selectors
from shequ.registry.schemas import MAX_ID, Page, PathId, Text100, Text2000, Version

router = Router(tags=["表决"])

READ_ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 404: ErrorOut}
CAST_ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class VoteQuery(Page):
    place: Id | None = Field(None, description="范围（社区或小区）编号，含下级")
    status: VoteStatus | None = None


class OptionOut(Schema):
    id: int
    label: str
    meaning: str


class VoteOut(Schema):
    id: int
    title: str
    description: str
    place_id: int
    place_name: str
    electorate: Electorate
    matter: str
    secret: bool
    status: VoteStatus
    opens_at: dt.datetime
    closes_at: dt.datetime
    closed_at: dt.datetime | None = None
    topic_id: int | None = None
    quorum: str = Field(description="法定/约定参与比例（p/q）")
    majority: str = Field(description="通过比例（p/q）")
    majority_strict: bool = Field(description="true：须超过该比例（过半数）；false：达到即可（以上）")
    options: list[OptionOut]


class VotePage(Schema):
    count: int
    items: list[VoteOut]


class VoteDetailOut(VoteOut):
    turnout: dict[str, Any] | None = Field(None, description="投票中：参与情况（不含选项）")
    result: dict[str, Any] | None = Field(None, description="已结束：冻结的计票结果及其计算过程")


class BallotIn(Schema):
    model_config = ConfigDict(extra="forbid")
    option_id: Id


class BallotOut(Schema):
    unit_id: int | None = None
    unit_name: str = ""
    option_id: int
    option_label: str
    channel: str
    changes: int
    updated_at: dt.datetime


def _actor(request: HttpRequest) -> Any:
    return request.auth  # type: ignore[attr-defined]


def vote_out(vote: Vote) -> dict[str, Any]:
    return {
        "id": vote.pk, "title": vote.title, "description": vote.description, "place_id": vote.place_id,
        "place_name": vote.place.name, "electorate": vote.electorate, "matter": vote.matter, "secret": vote.secret,
        "status": vote.status, "opens_at": vote.opens_at, "closes_at": vote.closes_at, "closed_at": vote.closed_at,
        "topic_id": vote.topic_id,
        "quorum": f"{vote.quorum_numerator}/{vote.quorum_denominator}",
        "majority": f"{vote.majority_numerator}/{vote.majority_denominator}",
        "majority_strict": vote.majority_strict,
        "options": [{"id": o.pk, "label": o.label, "meaning": o.meaning} for o in vote.options.all()],
    }


def ballot_out(ballot: Ballot) -> dict[str, Any]:
    return {
        "unit_id": ballot.unit_id, "unit_name": ballot.unit.name if ballot.unit_id else "",
        "option_id": ballot.option_id, "option_label": ballot.option.label, "channel": ballot.channel,
        "changes": ballot.changes, "updated_at": ballot.updated_at,
    }


@router.get("/votes", response={200: VotePage, **READ_ERRORS}, summary="表决列表")
def vote_list(request: HttpRequest, filters: Query[VoteQuery]) -> dict[str, Any]:
    qs = vote_selectors.vote_list(actor=_actor(request), status=filters.status or None, place_id=filters.place)
    items = list(qs[filters.offset:filters.offset + filters.limit])
    return {"count": qs.count(), "items": [vote_out(v) for v in items]}


@router.get("/votes/{vote_id}", response={200: VoteDetailOut, **READ_ERRORS}, summary="表决详情（结束后含计票结果）")
def vote_detail(request: HttpRequest, vote_id: PathId) -> dict[str, Any]:
    vote = vote_selectors.vote_get(actor=_actor(request), vote_id=vote_id)
    body = vote_out(vote)
    if vote.status == VoteStatus.OPEN:
        body["turnout"] = vote_selectors.vote_turnout(vote=vote)
    if vote.status == VoteStatus.CLOSED:
        body["result"] = vote.result
    return body


@router.post("/votes/{vote_id}/ballots", response={200: list[BallotOut], **CAST_ERRORS},
             summary="投票（截止前可改票；业主表决覆盖本人名下全部房屋）")
def ballot_cast(request: HttpRequest, vote_id: PathId, payload: BallotIn) -> list[dict[str, Any]]:
    actor = _actor(request)
    vote = vote_selectors.vote_get(actor=actor, vote_id=vote_id, lean=True)
    rows = votes.ballot_cast(actor=actor, vote=vote, option=payload.option_id)
    return [ballot_out(b) for b in rows]


@router.get("/votes/{vote_id}/my-ballot", response={200: list[BallotOut], **READ_ERRORS}, summary="我的选票")
def my_ballot(request: HttpRequest, vote_id: PathId) -> list[dict[str, Any]]:
    actor = _actor(request)
    vote = vote_selectors.vote_get(actor=actor, vote_id=vote_id)
    return [ballot_out(b) for b in vote_selectors.own_ballots(actor=actor, vote=vote)]


class DecisionCaseIn(Schema):
    model_config = ConfigDict(extra="forbid")
    category: str = Field(max_length=40, pattern=r"^[-a-zA-Z0-9_]+$", description="事项类别标识（二级类别）")
    title: Text100 = Field("", description="留空则用决议内容的第一行")
    description: Text2000 = Field("", description="留空则为“会议《…》决议：决议内容”")
    place: Id | None = Field(None, description="会议所在社区内的位置（小区、楼栋等）编号；默认为社区")
    version: Version | None = Field(None, description="决议的版本号；已被他人修改时返回409")


class DecisionCaseOut(Schema):
    decision_id: int
    decision_version: int
    case_id: int
    case_number: str
    case_state: str


@router.post("/deliberation/decisions/{decision_id}/case", response={201: DecisionCaseOut, **CAST_ERRORS},
             summary="决议转为工单（责任人关注工单进展；工单结案后由责任人完成决议）")
def decision_case(request: HttpRequest, decision_id: PathId, payload: DecisionCaseIn) -> Status:
    actor = _actor(request)
    decision = deliberation_selectors.decision_get(actor=actor, decision_id=decision_id)
    category = category_from_slug(payload.category)
    place = registry_selectors.place_get(actor=actor, place_id=payload.place) if payload.place else None
    case = meetings.decision_open_case(actor=actor, decision=decision, category=category, title=payload.title,
                                       description=payload.description, place=place, version=payload.version)
    decision.refresh_from_db(fields=["version"])
    return Status(201, {"decision_id": decision.pk, "decision_version": decision.version, "case_id": case.pk,
                        "case_number": case.number, "case_state": case.state})
