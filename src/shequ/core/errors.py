"""Domain errors with stable codes.

Services raise these; pages turn them into form errors and messages, the API into JSON bodies
``{"code": ..., "message": ..., "errors": [{"field": ..., "message": ...}]}``. The code is stable and
English; the message is translated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.translation import gettext_lazy as _

NOT_FOUND = _("对象不存在，或不在您的管辖范围内。")
PERMISSION_DENIED = _("您没有执行此操作的权限。")
VALIDATION_FAILED = _("提交的数据有误，请按提示修改。")
CONFLICT = _("数据已被他人修改，请刷新后重试。")


class ShequError(Exception):
    """Base of every error a service may raise on purpose."""

    code = "error"
    status = 400
    default_message: Any = VALIDATION_FAILED

    def __init__(self, message: Any = None, *, code: str | None = None) -> None:
        self.message = message if message is not None else self.default_message
        if code:
            self.code = code
        super().__init__(str(self.message))


class NotFound(ShequError):
    """Missing and out of scope look the same, so existence does not leak (QUALITY §1)."""

    code = "not_found"
    status = 404
    default_message = NOT_FOUND


class PermissionDenied(ShequError):
    code = "permission_denied"
    status = 403
    default_message = PERMISSION_DENIED


class Conflict(ShequError):
    code = "conflict"
    status = 409
    default_message = CONFLICT


class ValidationFailed(ShequError):
    """Bad input, with one message per field (``"__all__"`` for the whole object)."""

    code = "validation_failed"
    status = 400

    def __init__(
        self,
        errors: Mapping[str, Sequence[Any] | Any] | None = None,
        *,
        message: Any = None,
        code: str | None = None,
    ) -> None:
        normalised: dict[str, list[str]] = {}
        for field, msgs in (errors or {}).items():
            if isinstance(msgs, (list, tuple)):
                normalised[field] = [str(m) for m in msgs]
            else:
                normalised[field] = [str(msgs)]
        self.errors = normalised
        if message is None and len(normalised) == 1:
            ((field, msgs),) = normalised.items()
            message = msgs[0] if field == "__all__" else f"{field}: {msgs[0]}"
        super().__init__(message, code=code)

    @classmethod
    def from_django(cls, exc: Any) -> ValidationFailed:
        """Wrap a ``django.core.exceptions.ValidationError``."""
        if hasattr(exc, "error_dict"):
            return cls({f: [m for e in errs for m in e.messages] for f, errs in exc.error_dict.items()})
        return cls({"__all__": exc.messages})

    def first_message(self) -> str:
        """The first field message (for a one-line flash message), else the overall message."""
        for messages in self.errors.values():
            if messages:
                return messages[0]
        return str(self.message)

    def as_list(self) -> list[dict[str, str]]:
        return [{"field": f, "message": m} for f, msgs in self.errors.items() for m in msgs]
