"""Worker processes of the city generator, started by a fork server rather than forked from the caller.

Forking a process that runs threads (DuckDB's and Arrow's pools after record linkage, a threaded
server) can leave a lock held in the child and hang the pool. A fork server is a fresh, single-threaded
process; each worker sets Django up, takes the caller's database and key settings and the plan, and
then runs chunks. This module imports nothing from Django at import time so the fork server can load it.
"""

from __future__ import annotations

import os
import pickle
from typing import Any

_STATE: dict[str, Any] = {}


def initialise(settings_module: str, overrides: dict[str, Any], plan_blob: bytes) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    import django
    from django.conf import settings

    django.setup()
    for name, value in overrides.items():
        if name == "DATABASES":
            settings.DATABASES["default"].update(value)
        else:
            setattr(settings, name, value)
    from shequ.registry import scale

    scale._PLAN = pickle.loads(plan_blob)  # noqa: S301 - the plan comes from our own parent process


def call(name: str, argument: Any) -> Any:
    from shequ.registry import scale

    return getattr(scale, name)(argument)
