"""Forms of the proposal and meeting pages. They parse input only; the services decide the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from shequ.accounts.roles import Role
from shequ.cases.forms import CategoryField, category_choices
from shequ.cases.models import CaseCategory
from shequ.deliberation.choices import MeetingKind, ThresholdKind


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked by the attachments service, not here."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        accept = "image/jpeg,image/png,image/webp,application/pdf"
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": accept}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if not data:
            return []
        files = data if isinstance(data, (list, tuple)) else [data]
        return [f for f in files if f]


class PlaceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.get_kind_display()}）"


class ProposalForm(forms.Form):
    place = PlaceChoiceField(label=_("范围"), queryset=None, empty_label=None,
                             help_text=_("您所在的小区，或整个社区。"))
    title = forms.CharField(label=_("标题"), max_length=100)
    body = forms.CharField(label=_("内容"), widget=forms.Textarea(attrs={"rows": 6}),
                           help_text=_("说明问题、建议的做法和理由。"))
    category = forms.CharField(label=_("类别"), max_length=40, required=False,
                               widget=forms.TextInput(attrs={"placeholder": _("如：环境、停车、加装电梯")}))
    photos = MultipleFileField(label=_("照片"), help_text=_("可选，可多选；JPG、PNG、WebP 或 PDF，每个不超过10MB。"))

    def __init__(self, *args: Any, places: QuerySet, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places


class CommentForm(forms.Form):
    body = forms.CharField(label=_("发表评论"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class HideForm(forms.Form):
    reason = forms.CharField(label=_("隐藏理由"), max_length=200, required=False)


class RulesForm(forms.Form):
    threshold_kind = forms.ChoiceField(label=_("成题门槛类型"), choices=ThresholdKind.choices)
    threshold_count = forms.IntegerField(label=_("附议人数"), min_value=1, required=False,
                                         help_text=_("按固定人数时使用。"))
    threshold_share = forms.DecimalField(label=_("附议户数比例"), min_value=0, max_value=1, decimal_places=4,
                                         required=False,
                                         help_text=_("按户数比例时使用，如 0.05 表示本社区户数的5%，向上取整。"))


class TopicForm(forms.Form):
    community = PlaceChoiceField(label=_("社区"), queryset=None, empty_label=None)
    title = forms.CharField(label=_("议题"), max_length=100)
    body = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, communities: QuerySet, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities


class PersonChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.masked_name}（{obj.place.name}）"


class MeetingForm(forms.Form):
    community = PlaceChoiceField(label=_("社区"), queryset=None, empty_label=None)
    kind = forms.ChoiceField(label=_("会议类型"), choices=MeetingKind.choices)
    title = forms.CharField(label=_("会议名称"), max_length=100)
    starts_at = forms.DateTimeField(label=_("开始时间"),
                                    widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                               format="%Y-%m-%dT%H:%M"))
    location = forms.CharField(label=_("地点"), max_length=100, required=False)
    topics = forms.ModelMultipleChoiceField(label=_("议程（议题）"), queryset=None, required=False,
                                            widget=forms.CheckboxSelectMultiple)
    roles = forms.MultipleChoiceField(label=_("邀请角色"), required=False, widget=forms.CheckboxSelectMultiple,
                                      choices=[(r.value, r.label) for r in Role if r != Role.DISTRICT_ADMIN])
    organisations = forms.ModelMultipleChoiceField(label=_("邀请组织"), queryset=None, required=False,
                                                   widget=forms.CheckboxSelectMultiple)
    people = PersonChoiceField(label=_("邀请居民"), queryset=None, required=False,
                               widget=forms.SelectMultiple(attrs={"size": 6}),
                               help_text=_("可多选（按住 Ctrl 或在手机上逐个点选）。姓名已脱敏。"))

    def __init__(self, *args: Any, communities: QuerySet, topics: QuerySet, organisations: QuerySet,
                 people: QuerySet, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities
        self.fields["topics"].queryset = topics
        self.fields["organisations"].queryset = organisations
        self.fields["people"].queryset = people


class PaperAttendanceForm(forms.Form):
    person = forms.ModelChoiceField(label=_("居民"), queryset=None, required=False)
    name = forms.CharField(label=_("或填写姓名/单位"), max_length=100, required=False)

    def __init__(self, *args: Any, people: QuerySet, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people
        self.fields["person"].label_from_instance = lambda p: f"{p.masked_name}（{p.place.name}）"


class MinutesForm(forms.Form):
    minutes = forms.CharField(label=_("会议纪要"), required=False, widget=forms.Textarea(attrs={"rows": 10}))
    publish = forms.BooleanField(label=_("在社区公开页面公开纪要和决议"), required=False)
    attachments = MultipleFileField(label=_("附件"), help_text=_("签到表扫描件、会议照片等；JPG、PNG、WebP 或 PDF。"))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class DecisionForm(forms.Form):
    text = forms.CharField(label=_("决议内容"), widget=forms.Textarea(attrs={"rows": 3}))
    responsible = forms.ModelChoiceField(label=_("责任人"), queryset=None)
    due_on = forms.DateField(label=_("完成期限"), widget=forms.DateInput(attrs={"type": "date"}))
    topic = forms.ModelChoiceField(label=_("对应议题"), queryset=None, required=False)

    def __init__(self, *args: Any, responsibles: QuerySet, topics: QuerySet, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["responsible"].queryset = responsibles
        self.fields["topic"].queryset = topics


class CompleteForm(forms.Form):
    outcome = forms.CharField(label=_("落实情况"), widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class CasePlaceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        if obj.kind == "building" and obj.parent_id:
            return f"{obj.parent.name} {obj.name}"
        return f"{obj.name}（{obj.get_kind_display()}）"


class DecisionCaseForm(forms.Form):
    """转为工单: the category (leaves, grouped by 大类), an optional title and where in the community."""

    category = CategoryField(label=_("问题类别"))
    title = forms.CharField(label=_("工单标题"), max_length=100, required=False,
                            help_text=_("留空则使用决议内容的第一行。"))
    place = CasePlaceField(label=_("位置"), queryset=None, empty_label=None,
                           help_text=_("默认为整个社区；可选择具体小区或楼栋。"))
    description = forms.CharField(label=_("补充说明"), max_length=4000, required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}),
                                  help_text=_("留空则使用“会议《…》决议：决议内容”。"))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, places: QuerySet, categories: QuerySet[CaseCategory] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices(categories)
        self.fields["place"].queryset = places
