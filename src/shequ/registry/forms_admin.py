"""Forms of the registry's administration pages: organisations, care tags, grids, facilities.

Forms only parse input; the services validate the rules and their messages are put next to the
fields by ``core.forms.apply_service_errors``. Place choices are querysets the view has scoped.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from shequ.registry.choices import Construction, FacilityKind, GridDuty, OrganisationKind
from shequ.registry.geo import GEOMETRY_INVALID
from shequ.registry.models import Place


class PlaceChoiceField(forms.ModelChoiceField):
    """A place select that says which level each node is and where it sits."""

    def label_from_instance(self, obj: Place) -> str:  # type: ignore[override]
        return f"{obj.name}（{obj.get_kind_display()} {obj.path}）"


class OrganisationFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), required=False, choices=[("", _("全部类型")), *OrganisationKind.choices])
    q = forms.CharField(label=_("名称或信用代码"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("输入名称关键字")}))


class OrganisationForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=OrganisationKind.choices)
    name = forms.CharField(label=_("名称"), max_length=150)
    registration_number = forms.CharField(
        label=_("统一社会信用代码"), max_length=18, required=False,
        help_text=_("18位，驻区单位、社会组织和物业服务企业必填；党组织、业委会可不填。"),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "spellcheck": "false"}),
    )
    place = PlaceChoiceField(label=_("所属区域"), queryset=Place.objects.none(), empty_label=_("请选择…"),
                             help_text=_("只能选择您负责范围内的街镇或居村。"))
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    contact_name = forms.CharField(label=_("联系人"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=20, required=False,
                                    widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}))
    notes = forms.CharField(label=_("简介"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    active = forms.BooleanField(label=_("有效（仍在运作）"), required=False, initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, places: QuerySet[Place] | None = None, editing: bool = False,
                 masked_phone: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            # The place is fixed once registered: the record's scope follows it.
            del self.fields["place"]
            self.fields["contact_phone"].help_text = (
                _("当前：%(phone)s。留空表示不修改。") % {"phone": masked_phone} if masked_phone
                else _("当前未登记。")
            )
        else:
            del self.fields["version"]
            self.fields["place"].queryset = places if places is not None else Place.objects.none()

    def service_fields(self, *, editing: bool) -> dict[str, Any]:
        data = {k: self.cleaned_data[k] for k in ("kind", "name", "registration_number", "address", "contact_name",
                                                  "contact_phone", "notes", "active")}
        if editing and not data["contact_phone"]:
            del data["contact_phone"]  # blank means "keep": the current number is never sent to the page
        return data


class CareTagForm(forms.Form):
    slug = forms.SlugField(
        label=_("标识"), max_length=40,
        help_text=_("英文小写字母、数字和下划线，如 living_alone。保存后不能修改：居民身上的标签按标识加密存储，"
                    "改动标识会使已打的标签全部失效。"),
    )
    name = forms.CharField(label=_("名称"), max_length=40)
    sensitive = forms.BooleanField(label=_("敏感标签（如残疾、低保、健康状况），仅有权限的工作人员可见"),
                                   required=False)
    description = forms.CharField(label=_("说明"), max_length=200, required=False)
    sort = forms.IntegerField(label=_("排序"), min_value=0, max_value=32767, initial=100,
                              help_text=_("数字小的排在前面。"))
    active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["slug"]
        else:
            del self.fields["active"]


class GridForm(forms.Form):
    name = forms.CharField(label=_("网格名称"), max_length=100)
    geometry = forms.CharField(
        label=_("网格范围（GeoJSON）"),
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "code",
                                     "placeholder": '{"type": "Polygon", "coordinates": [[[121.40, 31.20], …]]}'}),
        help_text=_("粘贴 WGS84 经纬度的 Polygon 或 MultiPolygon（也可以是 Feature）。同一居村的网格不能重叠。"),
    )

    def clean_geometry(self) -> Any:
        raw = self.cleaned_data["geometry"]
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise forms.ValidationError(GEOMETRY_INVALID) from exc


class GridMemberForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50)
    duty = forms.ChoiceField(label=_("岗位"), choices=GridDuty.choices)
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False,
                            widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}))


class FacilityFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("类别"), required=False, choices=[("", _("全部类别")), *FacilityKind.choices])


class FacilityForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100)
    kind = forms.ChoiceField(label=_("类别"), choices=FacilityKind.choices)
    place = PlaceChoiceField(label=_("所在区域"), queryset=Place.objects.none(), empty_label=_("请选择…"),
                             help_text=_("街镇、居村或小区。"))
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    lon = forms.FloatField(label=_("经度"), help_text=_("WGS84，如 121.4123"))
    lat = forms.FloatField(label=_("纬度"), help_text=_("WGS84，如 31.2056"))
    floor_area = forms.DecimalField(label=_("建筑面积（㎡）"), max_digits=10, decimal_places=2)
    construction = forms.ChoiceField(label=_("建设方式"), choices=Construction.choices,
                                     help_text=_("新建社区用房不少于500㎡，改建、购置、租赁不少于300㎡。"))
    opened_on = forms.DateField(label=_("启用日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, places: QuerySet[Place] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places if places is not None else Place.objects.none()

    def service_fields(self) -> dict[str, Any]:
        return {k: self.cleaned_data[k] for k in ("name", "kind", "address", "lon", "lat", "floor_area",
                                                  "construction", "opened_on")}
