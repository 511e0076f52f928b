"""Attachments (附件): photos and documents on any record, checked by content and size.

The type is decided from the file's first bytes, not from its name or the browser's header, and
must be one of ``ALLOWED``; files above ``MAX_BYTES`` are refused. A record's attachments are found
through ``Attachment.objects.for_object(obj)``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from shequ.core.audit import audit_record
from shequ.core.errors import ValidationFailed
from shequ.core.models import AuditAction, TimeStampedModel

MAX_BYTES = 10 * 1024 * 1024
ALLOWED: dict[str, str] = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
}
FILE_TOO_LARGE = _("文件“{name}”超过10MB，请压缩后再上传。")
FILE_TYPE_NOT_ALLOWED = _("文件“{name}”的类型不支持：只能上传 JPG、PNG、WebP 图片或 PDF 文档。")
FILE_EMPTY = _("文件“{name}”是空的。")


def sniff(head: bytes) -> str | None:
    """The content type told by the file's first bytes, if it is one we accept."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


class AttachmentQuerySet(models.QuerySet):
    def for_object(self, obj: models.Model) -> AttachmentQuerySet:
        return self.filter(content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk))


class Attachment(TimeStampedModel):
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.CharField(max_length=64)
    target = GenericForeignKey("content_type", "object_id")
    file = models.FileField(_("文件"), upload_to="attachments/%Y/%m/")
    name = models.CharField(_("文件名"), max_length=200)
    mime_type = models.CharField(_("类型"), max_length=64)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(max_length=64)
    scope_path = models.CharField(max_length=32, db_index=True, blank=True)
    uploaded_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        app_label = "core"
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        return self.mime_type.startswith("image/")


def check_upload(upload: UploadedFile) -> str:
    """The accepted content type of an upload, or ``ValidationFailed`` naming the file."""
    name = upload.name or "file"
    if upload.size is not None and upload.size > MAX_BYTES:
        raise ValidationFailed({"file": str(FILE_TOO_LARGE).format(name=name)})
    if not upload.size:
        raise ValidationFailed({"file": str(FILE_EMPTY).format(name=name)})
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    mime = sniff(head)
    if mime is None:
        raise ValidationFailed({"file": str(FILE_TYPE_NOT_ALLOWED).format(name=name)})
    return mime


@transaction.atomic
def attachment_add(*, actor: Any, obj: models.Model, upload: UploadedFile) -> Attachment:
    """Attach a checked file to ``obj``; the caller has already checked the actor may change ``obj``."""
    mime = check_upload(upload)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    attachment = Attachment(
        content_type=ContentType.objects.get_for_model(obj),
        object_id=str(obj.pk),
        name=(upload.name or "file")[:200],
        mime_type=mime,
        size=upload.size or 0,
        sha256=digest.hexdigest(),
        scope_path=getattr(obj, "scope_path", "") or "",
        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    upload.name = f"{digest.hexdigest()[:16]}{ALLOWED[mime]}"  # stored name: no user-controlled path
    attachment.file = upload
    attachment.save()
    audit_record(actor=actor, action=AuditAction.CREATE, obj=attachment, object_repr=attachment.name,
                 scope_path=attachment.scope_path)
    return attachment
