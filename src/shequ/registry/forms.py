"""Forms of the registry pages. They parse input only; the services validate and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from shequ.core.errors import ValidationFailed
from shequ.registry.choices import AgeBand, PersonStatus, Relation, ResidenceType, Sex
from shequ.registry.models import CareTag, Household, Place

BLANK_KEEPS = _("留空表示不修改")


def _blank(label: Any) -> list[tuple[str, Any]]:
    return [("", label)]


class PersonFilterForm(forms.Form):
    """The GET form of the people list; every field is optional."""

    q = forms.CharField(label=_("姓名包含"), required=False, max_length=50,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("输入姓名中的字")}))
    tag = forms.ChoiceField(label=_("关爱标签"), required=False)
    age_band = forms.ChoiceField(label=_("年龄段"), required=False, choices=_blank(_("全部")) + AgeBand.choices)
    compound = forms.TypedChoiceField(label=_("小区"), required=False, coerce=int, empty_value=None)
    residence_type = forms.ChoiceField(label=_("人口类型"), required=False,
                                       choices=_blank(_("全部")) + ResidenceType.choices)
    sex = forms.ChoiceField(label=_("性别"), required=False, choices=_blank(_("全部")) + Sex.choices)
    within = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, tags: list[CareTag], compounds: list[Place], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tag"].choices = _blank(_("全部")) + [(t.slug, t.name) for t in tags]
        self.fields["compound"].choices = _blank(_("全部小区")) + [(c.pk, c.name) for c in compounds]


NEW_HOUSEHOLD = -1
NEW_HOUSEHOLD_CHOSEN = "new"


class PersonForm(forms.Form):
    """Register or edit a person. On edit, name, ID number, phone and birth date are never pre-filled:
    the page would otherwise show them in clear; blank means unchanged."""

    name = forms.CharField(label=_("姓名"), max_length=50, required=True)
    id_number = forms.CharField(label=_("身份证号"), max_length=18, required=False,
                                widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}))
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False,
                            widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}))
    sex = forms.ChoiceField(label=_("性别"), required=False, choices=_blank(_("按身份证号自动识别")) + Sex.choices)
    birth_date = forms.DateField(label=_("出生日期"), required=False, widget=forms.DateInput(
        attrs={"placeholder": _("格式：年-月-日"), "inputmode": "numeric", "autocomplete": "off"},
        format="%Y-%m-%d",
    ))
    residence_type = forms.ChoiceField(label=_("人口类型"), choices=ResidenceType.choices)
    status = forms.ChoiceField(label=_("状态"), choices=PersonStatus.choices, required=False)
    household = forms.TypedChoiceField(label=_("所在住户"), required=False, coerce=int, empty_value=None)
    relation = forms.ChoiceField(label=_("与户主关系"), required=False, choices=_blank("—") + Relation.choices)
    tags = forms.MultipleChoiceField(label=_("关爱标签"), required=False, widget=forms.CheckboxSelectMultiple)
    notes = forms.CharField(label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, households: list[Household], tags: list[CareTag], editing: bool = False,
                 masked: dict[str, str] | None = None, can_open_household: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.households = {h.pk: h for h in households}
        self.fields["household"].choices = _blank(_("不编入住户")) + [
            (h.pk, h.number or _("住户 %(id)s") % {"id": h.pk}) for h in households
        ] + ([(NEW_HOUSEHOLD, _("新立一户（本人为户主）"))] if can_open_household else [])
        self.fields["tags"].choices = [(t.slug, t.name) for t in tags]
        self.fields["id_number"].help_text = _("18位，系统自动校验；出生日期和性别可由身份证号识别。")
        if editing:
            masked = masked or {}
            for name in ("name", "id_number", "phone", "birth_date"):
                field = self.fields[name]
                field.required = False
                field.help_text = BLANK_KEEPS
                if masked.get(name):
                    field.widget.attrs["placeholder"] = masked[name]
        else:
            del self.fields["status"]
            del self.fields["version"]

    def clean_household(self) -> Household | str | None:
        pk = self.cleaned_data.get("household")
        if pk == NEW_HOUSEHOLD:
            return NEW_HOUSEHOLD_CHOSEN
        return self.households.get(pk) if pk else None

    def apply_errors(self, exc: ValidationFailed) -> None:
        """Show each service error next to its field; the rest above the form."""
        aliases = {"place_id": None, "household_id": "household", "__all__": None}
        for field, messages in exc.errors.items():
            target = aliases.get(field, field)
            if target is not None and target not in self.fields:
                target = None
            for message in messages:
                self.add_error(target, message)
