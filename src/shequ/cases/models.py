"""Cases (工单): the 一网统管 closed loop — discover, dispatch, handle, close.

A case is reported (by a resident, a grid worker, the 12345 hotline, a sensor or the Open311
interface), located in a grid and a community, accepted or rejected by the community, handled there
or escalated to the street ("社区呼叫"), dispatched by the street to departments ("街道吹哨"), whose
handlers check in ("部门报到") and report; the street verifies and the case is closed and rated. Every
step is a ``CaseEvent`` on the timeline. Which moves are allowed, and by whom, is one table in
``workflow.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from shequ.cases.choices import OPEN_STATES, AlertComparison, CaseSource, CaseState, DispatchState
from shequ.core.fields import EncryptedTextField
from shequ.core.models import ScopedModel, TimeStampedModel
from shequ.registry.models import LAT_VALIDATORS, LON_VALIDATORS

User = settings.AUTH_USER_MODEL


class CaseCategoryQuerySet(models.QuerySet["CaseCategory"]):
    def with_is_parent(self) -> CaseCategoryQuerySet:
        """Annotate ``is_parent`` (has sub-categories) so a report checks leafness without another query."""
        return self.annotate(is_parent=models.Exists(CaseCategory.objects.filter(parent=models.OuterRef("pk"))))


class CaseCategory(TimeStampedModel):
    """Category (事项类别), two levels, each leaf with its time limits.

    ``accept_hours``: the community must accept or reject within this many hours; ``resolve_days``:
    resolve within this many working days (weekends and holidays do not count, see ``Holiday``);
    ``checkin_hours``: a dispatched department must check in within this many hours.
    """

    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    slug = models.SlugField(_("标识"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=40)
    accept_hours = models.PositiveSmallIntegerField(_("受理时限（小时）"), default=24)
    resolve_days = models.PositiveSmallIntegerField(_("处置时限（工作日）"), default=5)
    checkin_hours = models.PositiveSmallIntegerField(_("部门报到时限（小时）"), default=4)
    default_department_kind = models.CharField(_("默认处置部门类别"), max_length=32, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    sort = models.PositiveSmallIntegerField(_("排序"), default=100)

    objects = CaseCategoryQuerySet.as_manager()

    class Meta:
        verbose_name = _("事项类别")
        verbose_name_plural = _("事项类别")
        ordering = ["sort", "slug"]

    def __str__(self) -> str:
        return self.name

    def is_parent_category(self) -> bool:
        """Whether it has sub-categories (cases go to leaves only); annotated by ``with_is_parent``."""
        annotated = getattr(self, "is_parent", None)
        return bool(annotated) if annotated is not None else self.children.exists()


class CategoryRoute(TimeStampedModel):
    """Which department a category goes to in a street, overriding the category's default kind."""

    category = models.ForeignKey(CaseCategory, on_delete=models.CASCADE, related_name="routes")
    street = models.ForeignKey("registry.Place", on_delete=models.CASCADE, related_name="+")
    department = models.ForeignKey("accounts.Department", on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("派单规则")
        verbose_name_plural = _("派单规则")
        constraints = [models.UniqueConstraint(fields=["category", "street"], name="route_unique_category_street")]

    def __str__(self) -> str:
        return f"{self.category} @ {self.street} → {self.department}"


class Holiday(models.Model):
    """A public holiday, or a weekend day that is a working day (调休上班, ``working`` = True)."""

    date = models.DateField(_("日期"), unique=True)
    name = models.CharField(_("名称"), max_length=40)
    working = models.BooleanField(_("调休上班"), default=False)

    class Meta:
        verbose_name = _("节假日")
        verbose_name_plural = _("节假日")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class Case(ScopedModel):
    """Case (工单). ``scope_path`` is the community (or the finest known place) it is located in."""

    number = models.CharField(_("工单编号"), max_length=24, unique=True)
    category = models.ForeignKey(CaseCategory, verbose_name=_("类别"), on_delete=models.PROTECT, related_name="cases")
    title = models.CharField(_("标题"), max_length=100)
    description = models.TextField(_("描述"), max_length=4000)
    source = models.CharField(_("来源"), max_length=16, choices=CaseSource.choices, db_index=True)
    state = models.CharField(_("状态"), max_length=16, choices=CaseState.choices, default=CaseState.NEW,
                             db_index=True)
    reporter = models.ForeignKey(User, verbose_name=_("上报人"), null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="reported_cases")
    anonymous = models.BooleanField(_("对其他居民匿名"), default=False)
    contact_phone = EncryptedTextField(_("联系电话"), blank=True)
    place = models.ForeignKey("registry.Place", verbose_name=_("位置"), on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey("registry.Place", verbose_name=_("社区"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="cases")
    grid = models.ForeignKey("registry.Grid", verbose_name=_("网格"), null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="cases")
    lon = models.FloatField(_("经度"), null=True, blank=True, validators=LON_VALIDATORS)
    lat = models.FloatField(_("纬度"), null=True, blank=True, validators=LAT_VALIDATORS)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    assignee = models.ForeignKey(User, verbose_name=_("处置人"), null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="assigned_cases")
    accept_due_at = models.DateTimeField(_("受理截止"), null=True, blank=True, db_index=True)
    resolve_due_at = models.DateTimeField(_("处置截止"), null=True, blank=True, db_index=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("处置完成时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    result = models.TextField(_("处置结果"), blank=True)
    rating = models.PositiveSmallIntegerField(_("评价"), null=True, blank=True,
                                              validators=[MinValueValidator(1), MaxValueValidator(5)])
    rating_comment = models.CharField(_("评价意见"), max_length=500, blank=True)
    reopened_count = models.PositiveSmallIntegerField(_("重新打开次数"), default=0)
    merged_into = models.ForeignKey("self", verbose_name=_("合并至"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="merged_cases")
    near_due = models.BooleanField(_("临期"), default=False, db_index=True)
    overdue = models.BooleanField(_("超期"), default=False, db_index=True)
    device = models.ForeignKey("Device", null=True, blank=True, on_delete=models.SET_NULL, related_name="cases")
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("工单")
        verbose_name_plural = _("工单")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["scope_path", "state", "created_at"]),
            # figures over a period for a street or community: the date narrows the scan, and on PostgreSQL
            # the columns the figures count ride along, so a street's 90 days (~26k of 1M cases, spread over
            # the whole table) are read off the index alone instead of from ~30k heap pages (SQLite ignores
            # ``include``; settings silence its warning models.W040)
            models.Index(fields=["scope_path", "created_at"], name="case_figures",
                         include=["id", "category", "grid", "state", "overdue", "accepted_at", "closed_at",
                                  "resolve_due_at", "rating"]),
            models.Index(fields=["street_code", "state", "resolve_due_at"]),
            models.Index(fields=["category", "state", "created_at"]),
            # possible duplicates, asked by every report: the open cases of a category in a community lately
            models.Index(fields=["community", "category", "created_at"], name="case_open_by_community",
                         condition=models.Q(state__in=sorted(OPEN_STATES))),
            # the street's worklist (街道待办) in its own order: the first page is read off the index, not sorted
            models.Index(
                fields=["street_code", "-overdue", "-near_due", "resolve_due_at", "id"],
                condition=models.Q(state__in=sorted(OPEN_STATES)),
                name="case_street_worklist",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class CaseFollower(models.Model):
    """Someone told of every step: the reporter, and reporters of duplicates merged into the case."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="followers")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "user"], name="case_follower_unique")]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.user_id}"


class CaseEvent(models.Model):
    """One step on a case's timeline: who, when, what, from which state to which, a note, files."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(_("动作"), max_length=32)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    note = models.TextField(_("说明"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("工单记录")
        verbose_name_plural = _("工单记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action}"


class Dispatch(TimeStampedModel):
    """Dispatch (吹哨派单): a task for one department, with a deadline and a check-in time limit."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="dispatches")
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="dispatches")
    task = models.TextField(_("任务"))
    due_at = models.DateTimeField(_("完成期限"))
    checkin_due_at = models.DateTimeField(_("报到期限"))
    state = models.CharField(_("状态"), max_length=16, choices=DispatchState.choices, default=DispatchState.PENDING,
                             db_index=True)
    checked_in_at = models.DateTimeField(_("报到时间"), null=True, blank=True)
    checked_in_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reported_at = models.DateTimeField(_("反馈时间"), null=True, blank=True)
    report = models.TextField(_("处置情况"), blank=True)
    return_reason = models.CharField(_("退回理由"), max_length=500, blank=True)
    override_reason = models.CharField(_("改派理由"), max_length=500, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    overdue = models.BooleanField(_("超期"), default=False)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("派单")
        verbose_name_plural = _("派单")
        ordering = ["case", "id"]
        indexes = [models.Index(fields=["department", "state"])]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.department_id}"


class Device(TimeStampedModel):
    """An IoT device (物联感知设备) that posts alerts with its own token (only the digest is stored)."""

    device_id = models.CharField(_("设备编号"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=32)
    place = models.ForeignKey("registry.Place", verbose_name=_("安装位置"), on_delete=models.PROTECT, related_name="+")
    lon = models.FloatField(_("经度"), null=True, blank=True, validators=LON_VALIDATORS)
    lat = models.FloatField(_("纬度"), null=True, blank=True, validators=LAT_VALIDATORS)
    token_digest = models.CharField(max_length=64, unique=True)
    active = models.BooleanField(_("启用"), default=True)
    scope_path = models.CharField(max_length=32, db_index=True, editable=False)

    class Meta:
        verbose_name = _("感知设备")
        verbose_name_plural = _("感知设备")

    def __str__(self) -> str:
        return f"{self.name}（{self.device_id}）"


class AlertRule(TimeStampedModel):
    """When an alert of ``kind`` opens a case: comparison with a threshold; at most one open case per
    device and kind within ``window_minutes``."""

    kind = models.CharField(_("告警类型"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    comparison = models.CharField(_("条件"), max_length=8, choices=AlertComparison.choices, default=AlertComparison.ANY)
    threshold = models.DecimalField(_("阈值"), max_digits=12, decimal_places=3, null=True, blank=True)
    category = models.ForeignKey(CaseCategory, verbose_name=_("工单类别"), on_delete=models.PROTECT, related_name="+")
    window_minutes = models.PositiveIntegerField(_("合并窗口（分钟）"), default=60)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("告警规则")
        verbose_name_plural = _("告警规则")

    def __str__(self) -> str:
        return self.name


class Alert(models.Model):
    """One reading posted by a device, and the case it opened or joined, if any."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(_("告警类型"), max_length=32)
    value = models.DecimalField(_("数值"), max_digits=12, decimal_places=3, null=True, blank=True)
    observed_at = models.DateTimeField(_("发生时间"))
    received_at = models.DateTimeField(_("接收时间"), auto_now_add=True)
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")

    class Meta:
        verbose_name = _("告警")
        verbose_name_plural = _("告警")
        indexes = [models.Index(fields=["device", "kind", "observed_at"])]

    def __str__(self) -> str:
        return f"{self.device_id} {self.kind}"
