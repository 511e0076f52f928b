"""Keep personal data out of the logs (QUALITY §7).

A filter on every handler replaces anything shaped like a mainland ID number or mobile phone number
before the record is written, whatever code logged it.
"""

from __future__ import annotations

import logging
import re

ID_NUMBER_RE = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
PHONE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def redact(text: str) -> str:
    text = ID_NUMBER_RE.sub("[身份证号已隐藏]", text)
    return PHONE_RE.sub("[手机号已隐藏]", text)


class PiiRedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True
