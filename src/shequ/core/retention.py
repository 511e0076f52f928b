"""Retention (QUALITY §8): each kind of record has a period; a daily job purges or anonymises what expired.

Apps register a ``RetentionPolicy`` in their ``retention.py`` (imported by ``purge_expired``). The audit
trail has no policy on purpose: it is append-only and kept for at least six months, and clearing it
is a decision for the database operator, not the application.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.utils import timezone


@dataclass(frozen=True)
class RetentionPolicy:
    name: str
    description: str
    period: dt.timedelta
    purge: Callable[[dt.datetime], int]  # receives the cut-off time, returns how many records it handled


_POLICIES: dict[str, RetentionPolicy] = {}


def register(policy: RetentionPolicy) -> RetentionPolicy:
    _POLICIES[policy.name] = policy
    return policy


def policies() -> list[RetentionPolicy]:
    for config in apps.get_app_configs():
        if config.name.startswith("shequ."):
            try:
                importlib.import_module(f"{config.name}.retention")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.retention":
                    raise
    return sorted(_POLICIES.values(), key=lambda p: p.name)


def purge_expired(*, now: dt.datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    return {policy.name: policy.purge(now - policy.period) for policy in policies()}
