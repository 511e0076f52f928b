"""Choices of the ledger module: import modes and states, conflicts, linkage and export requests."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportMode(models.TextChoices):
    """What to do when some rows of a ledger have problems. Either way no row is half-written."""

    ALL_OR_NOTHING = "all_or_nothing", _("全部正确才导入")
    GOOD_ROWS = "good_rows", _("只导入正确的行")


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("待设置列")
    CHECKED = "checked", _("已检查")
    IMPORTED = "imported", _("已导入")
    REJECTED = "rejected", _("未导入（有错误行）")
    FAILED = "failed", _("导入失败，未写入")


class ConflictStatus(models.TextChoices):
    OPEN = "open", _("待核实")
    KEPT = "kept", _("保留现值")
    REPLACED = "replaced", _("采用新值")


class LinkStatus(models.TextChoices):
    """A candidate pair of records that may be one person."""

    PENDING = "pending", _("待人工核对")
    AUTO_MERGED = "auto_merged", _("已自动合并")
    MERGED = "merged", _("已合并")
    SEPARATED = "separated", _("确认不是同一人")
    UNDONE = "undone", _("已撤销合并")


class LinkRunStatus(models.TextChoices):
    RUNNING = "running", _("比对中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class ExportStatus(models.TextChoices):
    """An export of unmasked personal data waits for a second person's approval (QUALITY §6)."""

    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已驳回")
    USED = "used", _("已下载")
    EXPIRED = "expired", _("已过期")
