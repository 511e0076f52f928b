"""Validators of registry values with numbers in their rules."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

USCC_INVALID = _("统一社会信用代码应为18位数字或大写字母（不含I、O、Z、S、V）。")
USCC_CHECKSUM = _("统一社会信用代码校验位不正确，请核对。")


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def validate_uscc(value: str) -> str | None:
    """Return an error message for a bad unified social credit code (GB 32100-2015), else None."""
    if len(value) != 18 or any(c not in USCC_CHARS for c in value):
        return str(USCC_INVALID)
    if uscc_check_char(value[:17]) != value[17]:
        return str(USCC_CHECKSUM)
    return None
