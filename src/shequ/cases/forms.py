"""Forms of the case pages (工单). They parse input only; the services in ``services.py`` decide the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from shequ.cases.choices import CaseState
from shequ.cases.models import CaseCategory

PHOTO_ACCEPT = "image/*"


class PhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos in one input (the phone's camera or gallery); each is checked by the attachments service."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", PhotoInput(attrs={"accept": PHOTO_ACCEPT, "capture": "environment"}))
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", _("可选，可多张；拍照或从相册选择，每张不超过10MB。"))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if not data:
            return []
        files = data if isinstance(data, (list, tuple)) else [data]
        return [f for f in files if f]


def category_choices(categories: QuerySet[CaseCategory] | None = None, *,
                     include_parents: bool = False) -> list[tuple[Any, Any]]:
    """Two levels as option groups: 大类 → its 小类 (only leaves can be chosen, unless ``include_parents``)."""
    if categories is None:
        from shequ.cases.selectors import categories as all_categories

        categories = all_categories()
    rows = list(categories.select_related("parent").order_by("sort", "slug"))
    parents = [c for c in rows if c.parent_id is None]
    children: dict[int, list[CaseCategory]] = {}
    for c in rows:
        if c.parent_id is not None:
            children.setdefault(c.parent_id, []).append(c)
    choices: list[tuple[Any, Any]] = [("", _("请选择问题类别"))]
    for parent in parents:
        leaves = children.get(parent.pk, [])
        if leaves:
            first = [(str(parent.pk), _("%(name)s（全部）") % {"name": parent.name})] if include_parents else []
            choices.append((parent.name, first + [(str(c.pk), c.name) for c in leaves]))
        else:
            choices.append((str(parent.pk), parent.name))
    return choices


class CategoryField(forms.ChoiceField):
    def clean(self, value: Any) -> CaseCategory | None:
        value = super().clean(value)
        if not value:
            return None
        category = CaseCategory.objects.filter(pk=value, active=True).first() if str(value).isdigit() else None
        if category is None:
            raise forms.ValidationError(_("请选择有效的问题类别。"), code="invalid_choice")
        return category

    def valid_value(self, value: Any) -> bool:
        return True  # checked against the database in clean()


class ReportForm(forms.Form):
    """我要报事 / 巡查上报: what, where (pin on the map or an address), photos, anonymous."""

    category = CategoryField(label=_("问题类别"))
    description = forms.CharField(label=_("问题描述"), max_length=4000,
                                  widget=forms.Textarea(attrs={"rows": 4,
                                                               "placeholder": _("发生了什么？在哪里？持续多久了？")}))
    photos = PhotosField(label=_("照片"))
    lon = forms.FloatField(required=False, widget=forms.HiddenInput(attrs={"data-role": "lon"}))
    lat = forms.FloatField(required=False, widget=forms.HiddenInput(attrs={"data-role": "lat"}))
    address = forms.CharField(label=_("位置说明"), max_length=200, required=False,
                              widget=forms.TextInput(attrs={"placeholder": _("如：秀水小区3号楼东侧")}),
                              help_text=_("在地图上点一下标出位置，或者在这里写明地址，至少一项。"))
    contact_phone = forms.CharField(label=_("联系电话"), max_length=20, required=False,
                                    widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
                                    help_text=_("可选，仅工作人员可见，便于核实情况。"))
    anonymous = forms.BooleanField(label=_("对其他居民匿名"), required=False)

    def __init__(self, *args: Any, categories: QuerySet[CaseCategory] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices(categories)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        has_point = data.get("lon") is not None and data.get("lat") is not None
        if not has_point and not (data.get("address") or "").strip():
            self.add_error("address", _("请在地图上标出位置，或填写地址。"))
        return data

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        description = data["description"].strip()
        first_line = description.splitlines()[0] if description else ""
        title = f"{data['category'].name}：{first_line}"[:100]
        return {
            "category": data["category"], "title": title, "description": description,
            "lon": data.get("lon"), "lat": data.get("lat"), "address": (data.get("address") or "").strip(),
            "anonymous": bool(data.get("anonymous")), "contact_phone": (data.get("contact_phone") or "").strip(),
            "photos": data.get("photos") or [],
        }


class NoteForm(forms.Form):
    """Actions without input (accept, verify, close): an optional note."""

    note = forms.CharField(label=_("说明"), max_length=1000, required=False)

    def payload(self) -> dict[str, Any]:
        return {}


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("理由"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def payload(self) -> dict[str, Any]:
        return {"reason": self.cleaned_data["reason"].strip()}


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(label=_("指派给"), queryset=None, empty_label=_("请选择网格员"))

    def __init__(self, *args: Any, assignees: QuerySet | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignees if assignees is not None else self.fields["assignee"].queryset
        self.fields["assignee"].label_from_instance = lambda u: u.display_name or u.username

    def payload(self) -> dict[str, Any]:
        return {"assignee": self.cleaned_data["assignee"]}


class ResolveForm(forms.Form):
    result = forms.CharField(label=_("处置结果"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    photos = PhotosField(label=_("处置照片"))

    def payload(self) -> dict[str, Any]:
        return {"result": self.cleaned_data["result"].strip(), "photos": self.cleaned_data["photos"]}


class MergeForm(forms.Form):
    into = forms.ModelChoiceField(label=_("合并到"), queryset=None, empty_label=None)

    def __init__(self, *args: Any, candidates: QuerySet | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["into"].queryset = candidates if candidates is not None else self.fields["into"].queryset
        self.fields["into"].label_from_instance = lambda c: f"{c.number} {c.title}"

    def payload(self) -> dict[str, Any]:
        return {"into": self.cleaned_data["into"]}


RATING_CHOICES = [(str(n), str(n)) for n in range(5, 0, -1)]


class RateForm(forms.Form):
    rating = forms.TypedChoiceField(label=_("满意度"), choices=RATING_CHOICES, coerce=int,
                                    widget=forms.RadioSelect(attrs={"class": "stars"}))
    comment = forms.CharField(label=_("评价意见"), max_length=500, required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))

    def payload(self) -> dict[str, Any]:
        return {"rating": self.cleaned_data["rating"], "comment": self.cleaned_data["comment"].strip()}


class DispatchTaskForm(forms.Form):
    department = forms.ModelChoiceField(label=_("部门"), queryset=None, required=False, empty_label=_("（不派）"))
    task = forms.CharField(label=_("任务"), max_length=1000, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))
    due_at = forms.DateTimeField(label=_("完成期限"), required=False,
                                 widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
                                 input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"])

    def __init__(self, *args: Any, departments: QuerySet | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if departments is not None:
            self.fields["department"].queryset = departments

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("department"):
            if not (data.get("task") or "").strip():
                self.add_error("task", _("请写明交给该部门的任务。"))
            if not data.get("due_at"):
                self.add_error("due_at", _("请填写完成期限。"))
        return data


DISPATCH_ROWS = 3


class DispatchForm(forms.Form):
    """吹哨: up to three departments, each with task and deadline; a reason when not the suggested one."""

    override_reason = forms.CharField(label=_("改派理由"), max_length=500, required=False,
                                      help_text=_("未选系统建议的部门时必填。"))

    def __init__(self, data: Any = None, *, departments: QuerySet, default: Any = None,
                 initial_rows: list[dict[str, Any]] | None = None) -> None:
        super().__init__(data)
        self.default = default
        initial_rows = initial_rows or []
        self.rows = [
            DispatchTaskForm(data, prefix=f"t{i}", departments=departments,
                             initial=initial_rows[i] if i < len(initial_rows) else None)
            for i in range(DISPATCH_ROWS)
        ]

    def is_valid(self) -> bool:
        ok = super().is_valid()
        rows_ok = all(row.is_valid() for row in self.rows)
        if ok and rows_ok:
            chosen = [row.cleaned_data["department"] for row in self.rows if row.cleaned_data.get("department")]
            if not chosen:
                self.add_error(None, _("请至少选择一个部门。"))
                return False
            reason = self.cleaned_data["override_reason"].strip()
            if self.default is not None and self.default not in chosen and not reason:
                self.add_error("override_reason",
                               _("未选系统建议的部门“%(name)s”，请说明理由。") % {"name": self.default.name})
                return False
        return ok and rows_ok

    def payload(self) -> dict[str, Any]:
        tasks = [{"department": row.cleaned_data["department"], "task": row.cleaned_data["task"].strip(),
                  "due_at": row.cleaned_data["due_at"]} for row in self.rows if row.cleaned_data.get("department")]
        return {"tasks": tasks, "override_reason": self.cleaned_data["override_reason"].strip()}


class DispatchReportForm(forms.Form):
    report = forms.CharField(label=_("处置情况"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    photos = PhotosField(label=_("现场照片"))


class DispatchReturnForm(forms.Form):
    reason = forms.CharField(label=_("退回理由"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


PERIODS = [("", _("全部时间")), ("7", _("近7天")), ("30", _("近30天")), ("90", _("近90天"))]


class CaseFilterForm(forms.Form):
    q = forms.CharField(label=_("关键词"), required=False,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("编号、标题或地址")}))
    state = forms.ChoiceField(label=_("状态"), required=False, choices=[("", _("全部状态")), *CaseState.choices])
    category = forms.ChoiceField(label=_("类别"), required=False)
    grid = forms.ChoiceField(label=_("网格"), required=False)
    period = forms.ChoiceField(label=_("时间"), required=False, choices=PERIODS)
    overdue = forms.BooleanField(label=_("仅看超期"), required=False)

    def __init__(self, *args: Any, grids: QuerySet | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cats = category_choices(include_parents=True)
        cats[0] = ("", _("全部类别"))
        self.fields["category"].choices = cats
        self.fields["grid"].choices = [("", _("全部网格")), *[(str(g.pk), g.name) for g in (grids or [])]]
