"""Forms of the import wizard: upload, column mapping, run, and a conflict decision."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from shequ.ledgers import columns as cols
from shequ.ledgers.choices import ImportMode
from shequ.registry.choices import BusinessLine
from shequ.registry.models import Place

ACCEPT = ".xlsx,.csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,text/csv"


class UploadForm(forms.Form):
    file = forms.FileField(label=_("台账文件"), help_text=_("Excel（.xlsx）或 CSV，最大20MB；表头上方可以有标题行。"),
                           widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}))
    source = forms.ChoiceField(label=_("来源条线"), choices=BusinessLine.choices,
                               help_text=_("这份台账由哪个条线提供：导入的每项信息都记下来源。"))
    community = forms.ModelChoiceField(label=_("导入到社区"), queryset=Place.objects.none(), empty_label=None)

    def __init__(self, *args: Any, communities: list[Place], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = Place.objects.filter(pk__in=[c.pk for c in communities]).order_by("path")
        self.only = communities[0] if len(communities) == 1 else None
        if self.only is not None:
            self.fields["community"].initial = self.only.pk
            self.fields["community"].widget = forms.HiddenInput()
            self.fields["community"].required = False

    def clean_community(self) -> Place | None:
        return self.cleaned_data.get("community") or self.only


FIELD_CHOICES = [("", _("（不导入此列）")), *((c.field, c.label) for c in cols.COLUMNS)]


class MappingForm(forms.Form):
    """One select per column of the ledger (``col_0``, ``col_1`` …), pre-filled with the suggestion."""

    save_template_name = forms.CharField(
        label=_("保存为模板"), required=False, max_length=100,
        help_text=_("填写名称后，下次上传表头相同的台账会自动套用这套列对应，例如“民政高龄名册”。"),
    )

    def __init__(self, *args: Any, headers: list[str], mapping: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.headers = headers
        for index, header in enumerate(headers):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=header, choices=FIELD_CHOICES, required=False, initial=mapping.get(header, ""))
        self.order_fields([*(f"col_{i}" for i in range(len(headers))), "save_template_name"])

    def column_fields(self) -> list[tuple[str, Any]]:
        return [(cols.column_letter(i), self[f"col_{i}"]) for i in range(len(self.headers))]

    def mapping(self) -> dict[str, str]:
        return {header: self.cleaned_data.get(f"col_{i}") or "" for i, header in enumerate(self.headers)}


class RunForm(forms.Form):
    mode = forms.ChoiceField(label=_("导入方式"), choices=ImportMode.choices, widget=forms.RadioSelect,
                             initial=ImportMode.GOOD_ROWS)
    version = forms.IntegerField(widget=forms.HiddenInput())


class ConflictForm(forms.Form):
    decision = forms.ChoiceField(choices=[("keep", _("保留现值")), ("replace", _("采用新值"))])
    note = forms.CharField(label=_("说明"), required=False, max_length=200)
