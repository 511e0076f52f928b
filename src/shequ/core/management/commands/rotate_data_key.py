"""``shequ rotate_data_key``: re-encrypt every encrypted field under the current SHEQU_DATA_KEY.

Rotation, in order: (1) set SHEQU_INDEX_KEY to the data key in use, if it is not set yet, so exact
lookups keep working; (2) put a new key in SHEQU_DATA_KEY and the old one in SHEQU_DATA_KEYS_OLD;
(3) run this command; (4) remove the old key from SHEQU_DATA_KEYS_OLD.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from shequ.core import pii
from shequ.core.fields import EncryptedTextField

BATCH = 500


class Command(BaseCommand):
    help = "Re-encrypt all personal data under the current SHEQU_DATA_KEY (old key in SHEQU_DATA_KEYS_OLD)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.SHEQU_INDEX_KEY and settings.SHEQU_DATA_KEYS_OLD:
            raise CommandError(
                "Set SHEQU_INDEX_KEY to the previous data key first: the blind index is derived from the data key "
                "when SHEQU_INDEX_KEY is empty, and would no longer match the stored lookups."
            )
        total = 0
        for model in apps.get_models():
            fields = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            count = 0
            pks = list(model._default_manager.order_by("pk").values_list("pk", flat=True))
            for start in range(0, len(pks), BATCH):
                with transaction.atomic():
                    for row in model._default_manager.filter(pk__in=pks[start:start + BATCH]).values("pk", *fields):
                        # Values are decrypted with any configured key on the way out and encrypted with
                        # the primary key on the way in.
                        model._default_manager.filter(pk=row["pk"]).update(**{f: row[f] for f in fields})
                        count += 1
            total += count
            self.stdout.write(f"{model._meta.label}: {count} rows re-encrypted ({', '.join(fields)})")
        pii.encrypt("")  # touch the key cache with the current configuration
        self.stdout.write(self.style.SUCCESS(f"done: {total} rows"))
