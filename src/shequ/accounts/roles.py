"""Roles and what each may do.

A role is held at a node of the place tree through a ``Membership``; what the role allows applies
within that node's subtree only. Capabilities are checked by ``can`` and the predicates in
``permissions.py``; the scope is applied by the selectors.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    RESIDENT = "resident", _("居民")
    GRID_WORKER = "grid_worker", _("网格员")
    COMMUNITY_WORKER = "community_worker", _("社区工作者")
    COMMUNITY_HEAD = "community_head", _("居委会主任")
    STREET_OFFICER = "street_officer", _("街道干部")
    DEPARTMENT_HANDLER = "department_handler", _("部门处置人员")
    DISTRICT_ADMIN = "district_admin", _("区级管理员")


class Capability(models.TextChoices):
    REGISTRY_VIEW = "registry.view", _("查看基础数据")
    REGISTRY_EDIT = "registry.edit", _("维护基础数据")
    PII_REVEAL = "pii.reveal", _("查看个人信息明文")
    PII_EXPORT = "pii.export", _("导出个人信息")
    ORGANISATION_EDIT = "organisation.edit", _("维护组织名录")
    VOCABULARY_EDIT = "vocabulary.edit", _("维护字典")
    ACCOUNTS_MANAGE = "accounts.manage", _("管理用户与授权")
    AUDIT_VIEW = "audit.view", _("查看审计日志")
    DELIBERATION_MANAGE = "deliberation.manage", _("组织议事、表决与居务公开")
    CASES_HANDLE = "cases.handle", _("受理与处置工单")
    CASES_DISPATCH = "cases.dispatch", _("街道吹哨派单与核查结案")


_STAFF_READ = {Capability.REGISTRY_VIEW}
ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    Role.RESIDENT: frozenset(),
    Role.GRID_WORKER: frozenset(_STAFF_READ | {Capability.PII_REVEAL, Capability.CASES_HANDLE}),
    Role.COMMUNITY_WORKER: frozenset(
        _STAFF_READ
        | {
            Capability.REGISTRY_EDIT,
            Capability.PII_REVEAL,
            Capability.ORGANISATION_EDIT,
            Capability.AUDIT_VIEW,
            Capability.DELIBERATION_MANAGE,
            Capability.CASES_HANDLE,
        }
    ),
    Role.COMMUNITY_HEAD: frozenset(
        _STAFF_READ
        | {
            Capability.REGISTRY_EDIT,
            Capability.PII_REVEAL,
            Capability.PII_EXPORT,
            Capability.ORGANISATION_EDIT,
            Capability.AUDIT_VIEW,
            Capability.ACCOUNTS_MANAGE,
            Capability.DELIBERATION_MANAGE,
            Capability.CASES_HANDLE,
        }
    ),
    Role.STREET_OFFICER: frozenset(
        _STAFF_READ
        | {
            Capability.REGISTRY_EDIT,
            Capability.PII_REVEAL,
            Capability.ORGANISATION_EDIT,
            Capability.AUDIT_VIEW,
            Capability.DELIBERATION_MANAGE,
            Capability.CASES_DISPATCH,
        }
    ),
    Role.DEPARTMENT_HANDLER: frozenset(),
    Role.DISTRICT_ADMIN: frozenset(set(Capability.values)),
}

# Which roles a manager at a node may grant: never a role above their own.
GRANTABLE_ROLES: dict[str, frozenset[str]] = {
    Role.DISTRICT_ADMIN: frozenset(Role.values),
    Role.COMMUNITY_HEAD: frozenset({Role.RESIDENT, Role.GRID_WORKER, Role.COMMUNITY_WORKER}),
}

# The kind of place node each role is normally held at; memberships elsewhere are refused.
ROLE_PLACE_KINDS: dict[str, frozenset[str]] = {
    Role.RESIDENT: frozenset({"community", "compound", "building", "unit"}),
    Role.GRID_WORKER: frozenset({"community"}),
    Role.COMMUNITY_WORKER: frozenset({"community"}),
    Role.COMMUNITY_HEAD: frozenset({"community"}),
    Role.STREET_OFFICER: frozenset({"street"}),
    Role.DEPARTMENT_HANDLER: frozenset({"district", "street"}),
    Role.DISTRICT_ADMIN: frozenset({"district"}),
}
