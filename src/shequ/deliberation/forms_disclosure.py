"""Forms of the disclosure (居务公开) staff pages: parse only; the rules live in ``disclosure.py``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from shequ.deliberation.choices import NoticeCategory
from shequ.deliberation.disclosure import MIN_DISPLAY_DAYS
from shequ.registry.models import Place


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked by the service (type by content, 10 MB)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,.webp"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


def _minimums_help() -> str:
    parts = [f"{NoticeCategory(c).label}{d}天" for c, d in MIN_DISPLAY_DAYS.items()]
    return str(_("最短公示期：")) + "、".join(parts) + "。"


class NoticeForm(forms.Form):
    community = forms.ModelChoiceField(label=_("社区"), queryset=Place.objects.none(), empty_label=None)
    category = forms.ChoiceField(label=_("公开类别"), choices=NoticeCategory.choices)
    title = forms.CharField(label=_("标题"), max_length=150)
    body = forms.CharField(label=_("内容"), widget=forms.Textarea(attrs={"rows": 8}))
    display_days = forms.IntegerField(label=_("公示天数"), min_value=1, initial=7)
    published_at = forms.DateTimeField(
        label=_("定时公开"), required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("留空表示立即公开。"),
    )
    attachments = MultipleFileField(label=_("附件"), required=False,
                                    help_text=_("可选多个 PDF 或图片，每个不超过10MB。"))

    def __init__(self, *args: Any, communities: QuerySet[Place], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities
        if communities.count() == 1:
            self.fields["community"].initial = communities.first()
        self.fields["display_days"].help_text = _minimums_help()


class NoticeCorrectForm(forms.Form):
    title = forms.CharField(label=_("标题"), max_length=150)
    body = forms.CharField(label=_("内容"), widget=forms.Textarea(attrs={"rows": 8}))
    note = forms.CharField(label=_("更正说明"), max_length=200,
                           help_text=_("公开在公示栏上，说明更正了什么、为什么。原文保留，居民可以对照。"))
    attachments = MultipleFileField(label=_("补充附件"), required=False)
