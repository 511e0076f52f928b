"""Forms of the ledger exports: asking for an unmasked export, deciding on a request."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from shequ.ledgers.exports import EXPORT_REASON_REQUIRED, ledger_choices
from shequ.registry.models import Place
from shequ.registry.services import MIN_REASON_LENGTH


class ExportRequestForm(forms.Form):
    """申请明文导出: which ledger, where, and what for. Filters of a people list ride in the query string."""

    ledger = forms.ChoiceField(label=_("名册"))
    place = forms.TypedChoiceField(label=_("范围"), coerce=int)
    reason = forms.CharField(
        label=_("用途"), max_length=200, min_length=MIN_REASON_LENGTH,
        error_messages={"min_length": EXPORT_REASON_REQUIRED, "required": EXPORT_REASON_REQUIRED},
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("例如：区民政局高龄津贴年度核对")}),
        help_text=_("审批人据此判断是否同意；批准后24小时内可下载一次，导出与审批均记入审计日志。"),
    )

    def __init__(self, *args: Any, places: list[Place], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["ledger"].choices = list(ledger_choices())
        self.fields["place"].choices = [(p.pk, p.name) for p in places]


class ExportDecisionForm(forms.Form):
    """批准或驳回一份明文导出申请。"""

    decision = forms.ChoiceField(choices=[("approve", _("批准")), ("reject", _("驳回"))])
    note = forms.CharField(label=_("审批意见"), max_length=200, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)
