"""Shared kernel models: the scoped-record base and the append-only audit trail."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


class ScopedModel(TimeStampedModel):
    """A record that hangs on a node of the place tree.

    ``scope_path`` is the materialised code path of that node (see ``registry.Place``): a user whose
    membership is at node N sees the record when ``scope_path`` starts with N's path — one indexed
    prefix query at any depth. ``street_code`` (街镇, the first 9 digits) is the distribution key: every
    scoped row carries it so the schema can be sharded or partitioned by street.
    """

    scope_path = models.CharField(_("所属区域编码"), max_length=32, db_index=True, editable=False)
    street_code = models.CharField(_("街镇编码"), max_length=9, db_index=True, editable=False)

    class Meta:
        abstract = True

    def set_scope(self, path: str) -> None:
        self.scope_path = path
        self.street_code = path[:9]


class AuditAction(models.TextChoices):
    CREATE = "create", _("新增")
    UPDATE = "update", _("修改")
    DELETE = "delete", _("删除")
    REVEAL = "reveal", _("查看明文")
    EXPORT = "export", _("导出")
    LOGIN = "login", _("登录")
    LOGOUT = "logout", _("退出")
    LOGIN_FAILED = "login_failed", _("登录失败")
    GRANT = "grant", _("授权")
    REVOKE = "revoke", _("撤销授权")
    IMPORT = "import", _("导入")
    MERGE = "merge", _("合并")
    UNMERGE = "unmerge", _("撤销合并")
    APPROVE = "approve", _("审批")


class AuditEntry(models.Model):
    """Audit trail (审计日志): append-only, hash-chained per street (QUALITY §9).

    The application never updates or deletes a row: ``save`` refuses updates, ``delete`` refuses, and
    database triggers (see the migration) refuse UPDATE and DELETE from any client. Each row stores
    the hash of the previous row of its chain, so removing or editing a row breaks the chain and
    ``audit_verify`` finds where.
    """

    at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_name = models.CharField(_("操作人账号"), max_length=150, blank=True)
    action = models.CharField(_("动作"), max_length=20, choices=AuditAction.choices, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=64, db_index=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True, db_index=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    field = models.CharField(_("字段"), max_length=64, blank=True)
    reason = models.TextField(_("事由"), blank=True)
    outcome = models.CharField(_("结果"), max_length=20, default="success")
    changes = models.JSONField(_("变更内容"), default=dict, blank=True)
    scope_path = models.CharField(_("所属区域编码"), max_length=32, blank=True, db_index=True)
    chain = models.CharField(_("链"), max_length=16, default="global")
    request_id = models.CharField(_("请求编号"), max_length=64, blank=True)
    ip = models.GenericIPAddressField(_("IP地址"), null=True, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.object_type}#{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("audit entries are append-only")


class AuditChainHead(models.Model):
    """The newest hash of each audit chain; locked while a row is appended so the chain is linear."""

    chain = models.CharField(max_length=16, primary_key=True)
    last_hash = models.CharField(max_length=64, blank=True)
    count = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.chain}: {self.count}"


from shequ.core.attachments import Attachment  # noqa: E402,F401  (the model lives with its service)


class Notification(models.Model):
    """In-app notification (站内消息), written in the same transaction as the change it reports.

    A rolled-back change leaves no notification; e-mail or SMS delivery, where configured, is done by
    the worker from these rows (``delivered_at``), so a crash after commit still delivers once.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    title = models.CharField(_("标题"), max_length=150)
    body = models.TextField(_("内容"), blank=True)
    link = models.CharField(_("链接"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("外发时间"), null=True, blank=True)
    delivery_attempts = models.PositiveSmallIntegerField(_("外发尝试次数"), default=0)
    delivery_error = models.CharField(_("外发失败原因"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("消息")
        verbose_name_plural = _("消息")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "read_at"]),
            # the e-mail sender's queue: undelivered rows, oldest first
            models.Index(fields=["created_at"], name="notification_undelivered",
                         condition=models.Q(delivered_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.title


class IdempotencyRecord(models.Model):
    """The first response to a request sent with an ``Idempotency-Key`` (QUALITY §12).

    ``principal`` is who sent it (a user), so two users' keys never collide. A row without
    ``status`` is a request still being processed.
    """

    principal = models.CharField(max_length=64)
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(blank=True, default=b"")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["principal", "key"], name="idempotency_unique_key")]

    def __str__(self) -> str:
        return f"{self.principal}:{self.key}"
