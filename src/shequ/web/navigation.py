"""The main navigation: one list, each entry shown only to users with its capability."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from shequ.accounts.roles import Capability


@dataclass(frozen=True)
class NavItem:
    label: object
    url_name: str
    capability: str | None
    icon: str = ""
    visible: Callable[[Any], bool] | None = None  # a rule beyond one capability (e.g. staff or residents)


def _deliberates(user: Any) -> bool:
    """议事: managers of deliberation and residents (who propose, support and comment)."""
    return user.has_capability(Capability.DELIBERATION_MANAGE) or "resident" in user.roles()


def _handles_cases(user: Any) -> bool:
    """工单: community and grid staff, street officers, and department handlers (their dispatches)."""
    return (user.has_capability(Capability.CASES_HANDLE) or user.has_capability(Capability.CASES_DISPATCH)
            or (bool(getattr(user, "department_id", None)) and "department_handler" in user.roles()))


def _reports_cases(user: Any) -> bool:
    """我要报事: residents (their own cases)."""
    return "resident" in user.roles()


NAV: list[NavItem] = [
    NavItem(_("首页"), "home", None, "home"),
    NavItem(_("区域"), "registry:place_tree", Capability.REGISTRY_VIEW, "tree"),
    NavItem(_("人员"), "registry:person_list", Capability.REGISTRY_VIEW, "people"),
    NavItem(_("台账"), "ledgers:home", Capability.REGISTRY_VIEW, "ledger"),
    NavItem(_("组织"), "registry:organisation_list", Capability.REGISTRY_VIEW, "org"),
    NavItem(_("设施"), "registry:facility_list", Capability.REGISTRY_VIEW, "facility"),
    NavItem(_("用户"), "accounts:user_list", Capability.ACCOUNTS_MANAGE, "users"),
    NavItem(_("标签"), "registry:caretag_list", Capability.VOCABULARY_EDIT, "tag"),
    NavItem(_("审计"), "core:audit_list", Capability.AUDIT_VIEW, "audit"),
    NavItem(_("议事"), "deliberation:proposal_list", None, "deliberation", visible=_deliberates),
    NavItem(_("表决"), "deliberation:vote_list", None, "vote"),  # residents vote too (their own compound)
    NavItem(_("居务公开"), "deliberation:notice_list", Capability.DELIBERATION_MANAGE, "notice"),
    NavItem(_("工单"), "cases:home", None, "cases", visible=_handles_cases),
    NavItem(_("我要报事"), "cases:report", None, "report", visible=_reports_cases),
]


def nav_items(request: HttpRequest) -> list[dict[str, object]]:
    user = request.user
    items = []
    for item in NAV:
        if item.capability and not user.has_capability(item.capability):  # type: ignore[union-attr]
            continue
        if item.visible is not None and not item.visible(user):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        items.append(
            {"label": item.label, "url": url, "icon": item.icon, "active": request.path.startswith(url) and url != "/"
             or request.path == url}
        )
    return items
