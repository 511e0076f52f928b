"""The ledger panel of a person's page: open conflicts between business lines and merges into this record.

A template tag keeps the registry's views free of the ledgers app: the registry template loads it and the
panel reads through the ledgers' own scoped selectors.
"""

from __future__ import annotations

from typing import Any

from django import template

from shequ.accounts.roles import Capability
from shequ.core.scope import actor_can_at
from shequ.ledgers import conflicts, merges

register = template.Library()


@register.inclusion_tag("ledgers/person_panel.html", takes_context=True)
def person_ledger_panel(context: dict[str, Any], person: Any) -> dict[str, Any]:
    user = context["request"].user
    if not actor_can_at(user, person.scope_path, Capability.REGISTRY_EDIT):
        return {"visible": False}
    open_conflicts = list(conflicts.conflict_list(actor=user).filter(person=person).select_related("person",
                                                                                                   "incoming"))
    merged = list(merges.merge_list(actor=user, include_undone=False).filter(survivor=person))
    return {
        "visible": bool(open_conflicts or merged),
        "person": person,
        "conflicts": conflicts.conflict_rows(open_conflicts),
        "merges": merged,
    }
