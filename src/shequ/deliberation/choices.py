"""Choices of deliberation, votes and disclosure."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProposalStatus(models.TextChoices):
    OPEN = "open", _("征集附议")
    TOPIC = "topic", _("已成为议题")
    WITHDRAWN = "withdrawn", _("已撤回")
    CLOSED = "closed", _("已关闭")


class ThresholdKind(models.TextChoices):
    COUNT = "count", _("固定人数")
    HOUSEHOLD_SHARE = "household_share", _("户数比例")


class TopicStatus(models.TextChoices):
    OPEN = "open", _("待议")
    SCHEDULED = "scheduled", _("已列入会议")
    DECIDED = "decided", _("已形成决议")
    CLOSED = "closed", _("已结束")


class MeetingKind(models.TextChoices):
    RESIDENTS = "residents", _("居民会议")
    REPRESENTATIVES = "representatives", _("居民代表会议")
    HEARING = "hearing", _("听证会")
    COORDINATION = "coordination", _("协调会")
    REVIEW = "review", _("评议会")
    OWNERS_ASSEMBLY = "owners_assembly", _("业主大会")
    JOINT = "joint", _("联席会议")
    THREE_CARRIAGES = "three_carriages", _("三驾马车联席会")
    DEPUTIES_RECEPTION = "deputies_reception", _("两代表一委员接待")
    COMMUNITY_REPRESENTATIVES = "community_representatives", _("社区代表会议")


class MeetingStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("已安排")
    HELD = "held", _("已召开")
    CANCELLED = "cancelled", _("已取消")


class AttendanceSource(models.TextChoices):
    ONLINE = "online", _("线上签到")
    PAPER = "paper", _("纸质签到录入")


class DecisionStatus(models.TextChoices):
    OPEN = "open", _("落实中")
    DONE = "done", _("已完成")


class Electorate(models.TextChoices):
    RESIDENTS = "residents", _("本社区居民（一人一票）")
    REPRESENTATIVES = "representatives", _("居民代表（一人一票）")
    OWNERS = "owners", _("小区业主（《民法典》第278条）")


class Matter(models.TextChoices):
    """Kind of matter put to owners (Civil Code art. 278, items 1–9)."""

    ORDINARY = "ordinary", _("一般事项（过半数）")
    MAJOR = "major", _("重大事项：筹集维修资金、改建重建、改变共有部分用途或利用其从事经营（四分之三以上）")


class VoteStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    OPEN = "open", _("投票中")
    CLOSED = "closed", _("已结束")


class OptionMeaning(models.TextChoices):
    """What an option counts as in a tally: approval, rejection, abstention, or a plain choice."""

    YES = "yes", _("同意")
    NO = "no", _("反对")
    ABSTAIN = "abstain", _("弃权")
    CHOICE = "choice", _("选项")


class BallotChannel(models.TextChoices):
    ONLINE = "online", _("线上")
    PAPER = "paper", _("纸质票录入")


class NoticeCategory(models.TextChoices):
    PARTY = "party", _("党务公开")
    AFFAIRS = "affairs", _("居务公开")
    FINANCE = "finance", _("财务公开")
    SERVICE = "service", _("服务公开")
