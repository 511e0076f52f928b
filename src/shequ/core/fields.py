"""Model fields for personal data kept encrypted at rest."""

from __future__ import annotations

from typing import Any

from django.db import models

from shequ.core import pii


class EncryptedTextField(models.TextField):
    """Plain text in Python, Fernet ciphertext in the database.

    The value cannot be filtered on; pair it with a blind-index column for exact lookup. Empty values
    are stored as empty strings so "not given" stays visible without decrypting.
    """

    description = "Encrypted text"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str:
        if not value:
            return ""
        return pii.decrypt(value)

    def to_python(self, value: Any) -> str:
        return "" if value is None else str(value)

    def get_prep_value(self, value: Any) -> str:
        if isinstance(value, pii.Ciphertext):  # encrypted in bulk already
            return str(value)
        value = super().get_prep_value(value)
        if not value:
            return ""
        return pii.encrypt(str(value))
