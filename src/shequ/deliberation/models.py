"""Deliberation (议事协商), votes (表决) and disclosure (居务公开).

Proposals gather supports until they become topics on a community's agenda; meetings discuss topics
and record decisions that are followed to done; votes count ballots of residents (one person one
ballot) or of a compound's owners under Civil Code art. 278; notices are published with versions
that are never edited in place.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from shequ.core.models import ScopedModel, TimeStampedModel
from shequ.deliberation.choices import (
    AttendanceSource,
    BallotChannel,
    DecisionStatus,
    Electorate,
    Matter,
    MeetingKind,
    MeetingStatus,
    NoticeCategory,
    OptionMeaning,
    ProposalStatus,
    ThresholdKind,
    TopicStatus,
    VoteStatus,
)

User = settings.AUTH_USER_MODEL


class CommunityRules(TimeStampedModel):
    """A community's deliberation settings: when a proposal becomes a topic."""

    community = models.OneToOneField("registry.Place", on_delete=models.CASCADE, related_name="deliberation_rules")
    threshold_kind = models.CharField(
        _("成题门槛类型"), max_length=20, choices=ThresholdKind.choices, default=ThresholdKind.COUNT
    )
    threshold_count = models.PositiveIntegerField(_("附议人数"), default=20, validators=[MinValueValidator(1)])
    threshold_share = models.DecimalField(
        _("附议户数比例"),
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.05"),
        validators=[MinValueValidator(Decimal("0.0001"))],
    )

    class Meta:
        verbose_name = _("议事规则")
        verbose_name_plural = _("议事规则")

    def __str__(self) -> str:
        return f"{self.community}"


class Proposal(ScopedModel):
    """Proposal (社区提案): a resident's proposal for their compound or community."""

    place = models.ForeignKey("registry.Place", verbose_name=_("范围"), on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey(
        "registry.Place", verbose_name=_("社区"), on_delete=models.PROTECT, related_name="proposals"
    )
    title = models.CharField(_("标题"), max_length=100)
    body = models.TextField(_("内容"))
    category = models.CharField(_("类别"), max_length=40, blank=True)
    proposer = models.ForeignKey(User, verbose_name=_("提议人"), on_delete=models.PROTECT, related_name="proposals")
    status = models.CharField(_("状态"), max_length=16, choices=ProposalStatus.choices, default=ProposalStatus.OPEN)
    support_count = models.PositiveIntegerField(_("附议数"), default=0)
    threshold = models.PositiveIntegerField(_("成题所需附议数"), default=0)
    became_topic_at = models.DateTimeField(_("成题时间"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("提案")
        verbose_name_plural = _("提案")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class ProposalSupport(TimeStampedModel):
    """One support (附议) per verified resident and proposal, enforced by the database."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="supports")
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("附议")
        verbose_name_plural = _("附议")
        constraints = [models.UniqueConstraint(fields=["proposal", "person"], name="support_one_per_person")]

    def __str__(self) -> str:
        return f"{self.proposal_id}:{self.person_id}"


class Comment(TimeStampedModel):
    """A resident's comment on a proposal; moderation hides it with a reason (audited), never deletes."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("内容"), max_length=2000)
    hidden = models.BooleanField(_("已隐藏"), default=False)
    hidden_reason = models.CharField(_("隐藏理由"), max_length=200, blank=True)
    hidden_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    scope_path = models.CharField(max_length=32, db_index=True, editable=False)

    class Meta:
        verbose_name = _("评论")
        verbose_name_plural = _("评论")
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.body[:30]


class Topic(ScopedModel):
    """Topic (议题): an item on a community's agenda, from a proposal or put there by workers."""

    community = models.ForeignKey(
        "registry.Place", verbose_name=_("社区"), on_delete=models.PROTECT, related_name="topics"
    )
    title = models.CharField(_("议题"), max_length=100)
    body = models.TextField(_("说明"), blank=True)
    proposal = models.OneToOneField(
        Proposal, verbose_name=_("来源提案"), null=True, blank=True, on_delete=models.SET_NULL, related_name="topic"
    )
    status = models.CharField(_("状态"), max_length=16, choices=TopicStatus.choices, default=TopicStatus.OPEN)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("议题")
        verbose_name_plural = _("议题")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class Meeting(ScopedModel):
    """Meeting (会议): a deliberation meeting of one of the kinds the plans name."""

    community = models.ForeignKey(
        "registry.Place", verbose_name=_("社区"), on_delete=models.PROTECT, related_name="meetings"
    )
    kind = models.CharField(_("会议类型"), max_length=32, choices=MeetingKind.choices)
    title = models.CharField(_("会议名称"), max_length=100)
    starts_at = models.DateTimeField(_("开始时间"))
    location = models.CharField(_("地点"), max_length=100, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=MeetingStatus.choices, default=MeetingStatus.SCHEDULED)
    topics = models.ManyToManyField(Topic, verbose_name=_("议程"), blank=True, related_name="meetings")
    invited_people = models.ManyToManyField("registry.Person", blank=True, related_name="+")
    invited_organisations = models.ManyToManyField("registry.Organisation", blank=True, related_name="+")
    invited_roles = models.JSONField(_("邀请角色"), default=list, blank=True)
    minutes = models.TextField(_("会议纪要"), blank=True)
    minutes_published = models.BooleanField(_("纪要已公开"), default=False)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("会议")
        verbose_name_plural = _("会议")
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return self.title


class Attendance(TimeStampedModel):
    """Who attended a meeting; paper sign-ins are entered by staff (``source`` = paper, audited)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    person = models.ForeignKey("registry.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(
        "registry.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("姓名/单位"), max_length=100)
    source = models.CharField(_("签到方式"), max_length=16, choices=AttendanceSource.choices)
    recorded_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("出席")
        verbose_name_plural = _("出席")
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "person"],
                condition=models.Q(person__isnull=False),
                name="attendance_once_per_person",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Decision(ScopedModel):
    """Decision (决议) of a meeting, with who is responsible and a due date, followed to done."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="decisions")
    topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions")
    text = models.TextField(_("决议内容"))
    responsible = models.ForeignKey(User, verbose_name=_("责任人"), on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField(_("完成期限"))
    status = models.CharField(_("状态"), max_length=16, choices=DecisionStatus.choices, default=DecisionStatus.OPEN)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    outcome = models.TextField(_("落实情况"), blank=True)
    # a decision that needs hands-on work is carried out as a case (一网统管); its closure is the cue to complete
    case = models.ForeignKey("cases.Case", verbose_name=_("关联工单"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="decisions")
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("决议")
        verbose_name_plural = _("决议")
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return self.text[:40]


class Vote(ScopedModel):
    """Vote (表决): residents' (one person one ballot) or a compound's owners' (art. 278).

    ``place`` is the community for residents' votes and the compound for owners' votes. Quorum and
    majority of residents' votes are fractions stored as numerator/denominator so they stay exact.
    ``result`` is frozen when the vote closes and states how it was computed.
    """

    place = models.ForeignKey("registry.Place", verbose_name=_("范围"), on_delete=models.PROTECT, related_name="votes")
    topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.SET_NULL, related_name="votes")
    title = models.CharField(_("表决事项"), max_length=150)
    description = models.TextField(_("说明"), blank=True)
    electorate = models.CharField(_("投票人"), max_length=20, choices=Electorate.choices)
    matter = models.CharField(_("事项类别"), max_length=16, choices=Matter.choices, blank=True)
    quorum_numerator = models.PositiveIntegerField(default=1)
    quorum_denominator = models.PositiveIntegerField(default=2)
    majority_numerator = models.PositiveIntegerField(default=1)
    majority_denominator = models.PositiveIntegerField(default=2)
    # True: approval must be strictly more than the majority fraction ("过半数"); False: at least ("以上").
    majority_strict = models.BooleanField(default=True)
    secret = models.BooleanField(_("无记名投票"), default=False)
    opens_at = models.DateTimeField(_("开始时间"))
    closes_at = models.DateTimeField(_("截止时间"))
    status = models.CharField(_("状态"), max_length=16, choices=VoteStatus.choices, default=VoteStatus.DRAFT)
    # Frozen when the vote opens: who may vote and with what weight (owners: each unit's area and owner
    # key), so that the tally can be reproduced from the stored ballots whatever the registry says later.
    electorate_snapshot = models.JSONField(_("投票人名册"), null=True, blank=True)
    result = models.JSONField(_("表决结果"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("表决")
        verbose_name_plural = _("表决")
        ordering = ["-opens_at"]

    def __str__(self) -> str:
        return self.title


class VoteOption(models.Model):
    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="options")
    label = models.CharField(_("选项"), max_length=100)
    meaning = models.CharField(
        _("计票含义"), max_length=16, choices=OptionMeaning.choices, default=OptionMeaning.CHOICE
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["vote", "position"]
        constraints = [models.UniqueConstraint(fields=["vote", "label"], name="vote_option_unique_label")]

    def __str__(self) -> str:
        return self.label


class Ballot(TimeStampedModel):
    """A ballot: one per unit (owners' votes) or per person (residents' votes), enforced by the database.

    A changed ballot updates this row (``changes`` counts how often) until the vote closes.
    """

    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="ballots")
    option = models.ForeignKey(VoteOption, on_delete=models.PROTECT, related_name="ballots")
    unit = models.ForeignKey("registry.Place", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey("registry.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(
        "registry.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cast_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(_("方式"), max_length=16, choices=BallotChannel.choices, default=BallotChannel.ONLINE)
    changes = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("选票")
        verbose_name_plural = _("选票")
        constraints = [
            models.UniqueConstraint(
                fields=["vote", "unit"], condition=models.Q(unit__isnull=False), name="ballot_one_per_unit"
            ),
            models.UniqueConstraint(
                fields=["vote", "person"], condition=models.Q(unit__isnull=True), name="ballot_one_per_person"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.vote_id}:{self.unit_id or self.person_id}"


class Notice(ScopedModel):
    """Notice (公开事项) of 居务公开: published with a minimum display period; corrections are new versions.

    ``series`` groups the versions of one notice; ``supersedes`` points at the version it corrects.
    A published version is never edited: only ``superseded_at`` is set when a correction replaces it.
    """

    community = models.ForeignKey(
        "registry.Place", verbose_name=_("社区"), on_delete=models.PROTECT, related_name="notices"
    )
    category = models.CharField(_("公开类别"), max_length=16, choices=NoticeCategory.choices)
    title = models.CharField(_("标题"), max_length=150)
    body = models.TextField(_("内容"))
    series = models.UUIDField(_("公开事项编号"), db_index=True)
    revision = models.PositiveIntegerField(_("版本"), default=1)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    correction_note = models.CharField(_("更正说明"), max_length=200, blank=True)
    published_at = models.DateTimeField(_("公开时间"))
    display_until = models.DateField(_("最短公示至"))
    superseded_at = models.DateTimeField(_("被更正时间"), null=True, blank=True)
    published_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("公开事项")
        verbose_name_plural = _("公开事项")
        ordering = ["-published_at"]
        constraints = [models.UniqueConstraint(fields=["series", "revision"], name="notice_unique_revision")]

    def __str__(self) -> str:
        return self.title
