"""Ledgers (台账): imports from business lines' spreadsheets, fact conflicts, record linkage and exports.

One person, one record: a ledger row with a known ID number enriches that person; a differing value
becomes a ``FactConflict`` for a human; rows without an ID number are linked by name, birth date and
address (``LinkCandidate``), and every merge (``PersonMerge``) can be undone.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from shequ.core.fields import EncryptedTextField
from shequ.core.models import ScopedModel
from shequ.ledgers.choices import ConflictStatus, ExportStatus, ImportMode, ImportStatus, LinkRunStatus, LinkStatus
from shequ.registry.choices import BusinessLine


class ImportTemplate(ScopedModel):
    """A remembered column mapping: the next ledger with the same headers maps itself.

    ``header_signature`` is a hash of the normalised header row; ``mapping`` maps a column's header to
    a registry field (``""`` ignores the column). Kept per community (its ``scope_path``).
    """

    name = models.CharField(_("模板名称"), max_length=100)
    header_signature = models.CharField(max_length=64)
    headers = models.JSONField(_("表头"), default=list)
    mapping = models.JSONField(_("列对应"), default=dict)
    source = models.CharField(_("来源条线"), max_length=32, choices=BusinessLine.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    used_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("导入模板")
        verbose_name_plural = _("导入模板")
        constraints = [
            models.UniqueConstraint(fields=["scope_path", "header_signature"], name="import_template_unique")
        ]

    def __str__(self) -> str:
        return self.name


class ImportJob(ScopedModel):
    """One uploaded ledger file and what became of it.

    The file itself holds personal data: it is stored encrypted (``stored_name`` under the media
    root) and deleted once the import is finished or abandoned (see the retention policy).
    """

    community = models.ForeignKey(
        "registry.Place", verbose_name=_("社区"), on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(_("文件名"), max_length=200)
    stored_name = models.CharField(max_length=200, blank=True)
    file_digest = models.CharField(max_length=64, blank=True)
    sheet = models.CharField(_("工作表"), max_length=100, blank=True)
    header_row = models.PositiveIntegerField(_("表头行"), default=1)
    headers = models.JSONField(_("表头"), default=list)
    mapping = models.JSONField(_("列对应"), default=dict)
    template = models.ForeignKey(
        ImportTemplate,
        verbose_name=_("导入模板"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="jobs",
    )
    source = models.CharField(_("来源条线"), max_length=32, choices=BusinessLine.choices)
    mode = models.CharField(_("导入方式"), max_length=16, choices=ImportMode.choices, default=ImportMode.ALL_OR_NOTHING)
    status = models.CharField(_("状态"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    total_rows = models.PositiveIntegerField(_("数据行"), default=0)
    error_rows = models.PositiveIntegerField(_("错误行"), default=0)
    created_count = models.PositiveIntegerField(_("新增人员"), default=0)
    enriched_count = models.PositiveIntegerField(_("补充信息"), default=0)
    unchanged_count = models.PositiveIntegerField(_("无变化"), default=0)
    conflict_count = models.PositiveIntegerField(_("信息冲突"), default=0)
    checked_at = models.DateTimeField(_("检查时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    failure = models.CharField(_("失败原因"), max_length=500, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("台账导入")
        verbose_name_plural = _("台账导入")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["scope_path", "created_at"])]

    def __str__(self) -> str:
        return self.filename


class ImportRowError(models.Model):
    """A problem with one cell (or one row) of a ledger. Holds no value from the file, only where and what."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row = models.PositiveIntegerField(_("行号"))
    column = models.CharField(_("列"), max_length=8, blank=True)
    header = models.CharField(_("表头"), max_length=100, blank=True)
    field = models.CharField(_("字段"), max_length=40, blank=True)
    message = models.CharField(_("问题"), max_length=300)

    class Meta:
        verbose_name = _("导入错误")
        verbose_name_plural = _("导入错误")
        ordering = ["job", "row", "id"]
        indexes = [models.Index(fields=["job", "row"])]

    def __str__(self) -> str:
        return f"{self.row}{self.column}: {self.message}"


class FactConflict(ScopedModel):
    """Two business lines disagree on a person's field: both values are kept, a human decides."""

    person = models.ForeignKey("registry.Person", on_delete=models.CASCADE, related_name="conflicts")
    field = models.CharField(_("字段"), max_length=40)
    incoming = models.ForeignKey(
        "registry.PersonFact", verbose_name=_("新来源的值"), on_delete=models.CASCADE, related_name="+"
    )
    job = models.ForeignKey(ImportJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="conflicts")
    status = models.CharField(_("状态"), max_length=16, choices=ConflictStatus.choices, default=ConflictStatus.OPEN)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("信息冲突")
        verbose_name_plural = _("信息冲突")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["scope_path", "status"])]


class LinkRun(ScopedModel):
    """One record-linkage pass over the people of a place's subtree."""

    place = models.ForeignKey("registry.Place", verbose_name=_("范围"), on_delete=models.PROTECT, related_name="+")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(_("状态"), max_length=16, choices=LinkRunStatus.choices, default=LinkRunStatus.RUNNING)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    records = models.PositiveIntegerField(_("参与比对人数"), default=0)
    pairs_compared = models.PositiveBigIntegerField(_("比对对数"), default=0)
    candidates = models.PositiveIntegerField(_("疑似重复"), default=0)
    auto_merged = models.PositiveIntegerField(_("自动合并"), default=0)
    queued = models.PositiveIntegerField(_("待人工核对"), default=0)
    parameters = models.JSONField(_("参数"), default=dict)
    failure = models.CharField(_("失败原因"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("人员比对")
        verbose_name_plural = _("人员比对")
        ordering = ["-created_at", "-id"]


class LinkCandidate(ScopedModel):
    """A pair of records that record linkage thinks may be one person. ``left_id < right_id``."""

    run = models.ForeignKey(LinkRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="pairs")
    left = models.ForeignKey("registry.Person", on_delete=models.CASCADE, related_name="+")
    right = models.ForeignKey("registry.Person", on_delete=models.CASCADE, related_name="+")
    probability = models.FloatField(_("同一人概率"))
    match_weight = models.FloatField(_("匹配权重"), default=0)
    details = models.JSONField(_("比对依据"), default=dict)
    status = models.CharField(_("状态"), max_length=16, choices=LinkStatus.choices, default=LinkStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("疑似重复")
        verbose_name_plural = _("疑似重复")
        ordering = ["-probability", "id"]
        constraints = [
            models.UniqueConstraint(fields=["left", "right"], name="link_candidate_pair_unique"),
            models.CheckConstraint(condition=models.Q(left__lt=models.F("right")), name="link_candidate_ordered"),
        ]
        indexes = [models.Index(fields=["scope_path", "status"])]


class PersonMerge(ScopedModel):
    """One merge of ``merged`` into ``survivor``, with what it moved so that it can be undone.

    ``moved`` lists, per related table, the primary keys re-pointed from ``merged`` to ``survivor``
    (and the rows dropped as duplicates); ``snapshot`` is the survivor's fields before the merge,
    encrypted because it holds ID numbers and phones.
    """

    survivor = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    merged = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    candidate = models.ForeignKey(LinkCandidate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    automatic = models.BooleanField(_("自动合并"), default=False)
    moved = models.JSONField(default=dict)
    snapshot = EncryptedTextField(blank=True)
    undone_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("人员合并")
        verbose_name_plural = _("人员合并")
        ordering = ["-created_at", "-id"]


class ExportRequest(ScopedModel):
    """A request to export personal data in clear: a second person approves it (QUALITY §6).

    ``ledger`` is a ledger template key or ``people`` (a filtered people list, ``filters``).
    The approved file can be downloaded once, before ``expires_at``; both steps are audited.
    """

    place = models.ForeignKey("registry.Place", verbose_name=_("范围"), on_delete=models.PROTECT, related_name="+")
    ledger = models.CharField(_("名册"), max_length=40)
    filters = models.JSONField(_("筛选条件"), default=dict)
    reason = models.CharField(_("用途"), max_length=200)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("状态"), max_length=16, choices=ExportStatus.choices, default=ExportStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("审批人"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=200, blank=True)
    expires_at = models.DateTimeField(_("有效期至"), null=True, blank=True)
    used_at = models.DateTimeField(_("下载时间"), null=True, blank=True)
    row_count = models.PositiveIntegerField(_("行数"), default=0)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("明文导出申请")
        verbose_name_plural = _("明文导出申请")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["scope_path", "status"])]
