"""The audit trail page (审计日志): who did what to which record, when, why and with what outcome."""

from __future__ import annotations

from typing import Any

from django import forms
from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from shequ.accounts.roles import Capability
from shequ.core.audit import audit_verify
from shequ.core.errors import PermissionDenied
from shequ.core.forms import paginate
from shequ.core.models import AuditAction
from shequ.core.selectors import audit_list as select_audit_list
from shequ.core.selectors import audit_object_types, audit_sees_unscoped
from shequ.web.http import domain_errors

AUDIT_FORBIDDEN = _("您没有查看审计日志的权限。")
VERIFY_FORBIDDEN = _("只有区级管理员可以校验审计链。")
# Labels of the fields a reveal or a change may name; unknown ones are shown as stored.
FIELD_LABELS: dict[str, Any] = {
    "phone": _("联系电话"), "id_number": _("身份证号"), "name": _("姓名"), "contact_phone": _("联系电话"),
    "password": _("密码"),
}
OUTCOME_LABELS: dict[str, Any] = {"success": _("成功"), "failure": _("失败"), "denied": _("被拒绝")}


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label=_("动作"), required=False, choices=[("", _("全部动作")), *AuditAction.choices])
    object_type = forms.ChoiceField(label=_("对象类型"), required=False)
    actor_name = forms.CharField(label=_("操作人"), required=False, max_length=150,
                                 widget=forms.TextInput(attrs={"type": "search"}))
    since = forms.DateField(label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, object_types: list[str] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.fields["object_type"].choices = [("", _("全部类型")), *[(t, object_type_label(t)) for t in object_types]]


def object_type_label(label: str) -> str:
    """``registry.person`` → 人员 (the model's verbose name), else the label as stored."""
    try:
        return str(apps.get_model(label)._meta.verbose_name)
    except (LookupError, ValueError):
        return label


def _require_audit_view(request: HttpRequest) -> None:
    if not request.user.has_capability(Capability.AUDIT_VIEW):  # type: ignore[union-attr]
        raise PermissionDenied(AUDIT_FORBIDDEN)


def _page(request: HttpRequest, *, verify_problems: list[str] | None = None, verified: bool = False) -> HttpResponse:
    form = AuditFilterForm(request.GET or None, object_types=audit_object_types(actor=request.user))
    filters: dict[str, Any] = {}
    if form.is_valid():
        filters = {k: v for k, v in form.cleaned_data.items() if v}
    page, query = paginate(request, select_audit_list(actor=request.user, **filters), per_page=50)
    rows = [
        {
            "entry": e,
            "object_type": object_type_label(e.object_type),
            "field": FIELD_LABELS.get(e.field, e.field),
            "outcome": OUTCOME_LABELS.get(e.outcome, e.outcome),
        }
        for e in page
    ]
    return render(request, "core/audit_list.html", {
        "form": form, "page_obj": page, "rows": rows, "query": query,
        "can_verify": audit_sees_unscoped(request.user), "verified": verified,
        "verify_problems": verify_problems or [],
    })


@login_required
@domain_errors
def audit_list(request: HttpRequest) -> HttpResponse:
    _require_audit_view(request)
    return _page(request)


@login_required
@domain_errors
@require_POST
def audit_verify_view(request: HttpRequest) -> HttpResponse:
    _require_audit_view(request)
    if not audit_sees_unscoped(request.user):
        raise PermissionDenied(VERIFY_FORBIDDEN)
    return _page(request, verify_problems=audit_verify(), verified=True)
