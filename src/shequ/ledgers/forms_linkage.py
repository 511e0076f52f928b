"""Forms of the record-linkage pages: start a run, decide on a pair."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from shequ.registry.models import Place

SAME = "same"
DIFFERENT = "different"


class RunForm(forms.Form):
    place = forms.ModelChoiceField(label=_("社区"), queryset=Place.objects.none(), empty_label=None)

    def __init__(self, *args: Any, places: QuerySet[Place], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places  # type: ignore[attr-defined]


class DecideForm(forms.Form):
    decision = forms.ChoiceField(label=_("结论"), choices=[(SAME, _("合并")), (DIFFERENT, _("不是同一人"))])
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)

    @property
    def same_person(self) -> bool:
        return self.cleaned_data["decision"] == SAME
