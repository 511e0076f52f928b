"""The ledgers home (台账): what waits for the user across imports, conflicts, linkage and exports.

One scoped count per queue; each queue's own page lives in its module (importer, conflicts,
linkage, exports).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shequ.accounts.roles import Capability
from shequ.core.scope import restrict
from shequ.ledgers.choices import ConflictStatus, ExportStatus, LinkStatus
from shequ.ledgers.models import ExportRequest, FactConflict, ImportJob, LinkCandidate


@dataclass(frozen=True)
class LedgerOverview:
    recent_imports: list[ImportJob]
    open_conflicts: int
    pending_pairs: int
    pending_exports: int
    can_import: bool
    can_export_unmasked: bool


def ledger_overview(*, actor: Any) -> LedgerOverview:
    edit = Capability.REGISTRY_EDIT
    can_import = bool(actor.scope_paths(edit))
    can_export_unmasked = bool(actor.scope_paths(Capability.PII_EXPORT))
    recent = list(restrict(ImportJob.objects.select_related("community"), actor, capability=edit)[:5])
    conflicts = restrict(FactConflict.objects.filter(status=ConflictStatus.OPEN), actor, capability=edit).count()
    pairs = restrict(LinkCandidate.objects.filter(status=LinkStatus.PENDING), actor, capability=edit).count()
    exports = (
        restrict(ExportRequest.objects.filter(status=ExportStatus.PENDING), actor, capability=Capability.PII_EXPORT)
        .exclude(requested_by=actor)
        .count()
    )
    return LedgerOverview(recent, conflicts, pairs, exports, can_import, can_export_unmasked)
