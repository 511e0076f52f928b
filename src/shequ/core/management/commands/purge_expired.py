"""``shequ purge_expired``: run every retention policy now (the worker also runs it daily)."""

from typing import Any

from django.core.management.base import BaseCommand

from shequ.core.retention import policies, purge_expired


class Command(BaseCommand):
    help = "Purge or anonymise records whose retention period has expired."

    def handle(self, *args: Any, **options: Any) -> None:
        results = purge_expired()
        for policy in policies():
            self.stdout.write(f"{policy.name}: {results[policy.name]} ({policy.description})")
