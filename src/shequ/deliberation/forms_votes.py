"""Forms of the vote pages: parse only; the rules (art. 278, thresholds, times) live in ``votes.py``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from shequ.deliberation.choices import Electorate, Matter, OptionMeaning
from shequ.deliberation.models import Topic
from shequ.registry.models import Place

# Labels that mean approval, rejection or abstention when a residents' vote uses them as options.
MEANING_OF_LABEL = {"同意": OptionMeaning.YES, "赞成": OptionMeaning.YES, "反对": OptionMeaning.NO,
                    "不同意": OptionMeaning.NO, "弃权": OptionMeaning.ABSTAIN}
DATETIME_WIDGET = {"type": "datetime-local"}
NOT_FOR_OWNERS = _("业主表决只能选择小区。")
NOT_FOR_RESIDENTS = _("居民表决只能选择社区。")


class PlaceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Place) -> str:  # type: ignore[override]
        return f"{obj.name}（{obj.get_kind_display()}）"


class VoteForm(forms.Form):
    electorate = forms.ChoiceField(
        label=_("投票人"), widget=forms.RadioSelect,
        choices=[(Electorate.OWNERS, Electorate.OWNERS.label), (Electorate.RESIDENTS, Electorate.RESIDENTS.label)],
        initial=Electorate.OWNERS,
    )
    place = PlaceField(label=_("范围"), queryset=Place.objects.none(), empty_label=_("请选择…"),
                       help_text=_("业主表决选择小区；居民表决选择社区。"))
    topic = forms.ModelChoiceField(label=_("关联议题"), queryset=Topic.objects.none(), required=False,
                                   empty_label=_("不关联议题"))
    title = forms.CharField(label=_("表决事项"), max_length=150)
    description = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    matter = forms.ChoiceField(label=_("事项类别（业主表决）"), required=False,
                               choices=[("", _("请选择…")), *Matter.choices])
    options = forms.CharField(
        label=_("选项（居民表决）"), required=False, initial="同意\n反对\n弃权",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("每行一个选项。业主表决的选项固定为“同意、反对、弃权”。"),
    )
    quorum = forms.CharField(label=_("参与门槛（居民表决）"), required=False, initial="1/2", max_length=12,
                             help_text=_("参与人数占投票人总数的比例，如 1/2、2/3（以上，含本数）。"))
    majority = forms.CharField(label=_("通过门槛（居民表决）"), required=False, initial="1/2", max_length=12,
                               help_text=_("同意票占参与人数的比例，如 1/2。"))
    majority_strict = forms.BooleanField(label=_("须超过门槛（过半数），恰好等于不通过"), required=False, initial=True)
    secret = forms.BooleanField(label=_("无记名投票"), required=False,
                                help_text=_("无记名：任何人（包括工作人员）都看不到谁投了什么，只公布汇总结果。"))
    opens_at = forms.DateTimeField(label=_("开始时间"), widget=forms.DateTimeInput(DATETIME_WIDGET, "%Y-%m-%dT%H:%M"))
    closes_at = forms.DateTimeField(label=_("截止时间"), widget=forms.DateTimeInput(DATETIME_WIDGET, "%Y-%m-%dT%H:%M"))

    def __init__(self, *args: Any, places: QuerySet[Place], topics: QuerySet[Topic], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places
        self.fields["topic"].queryset = topics

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        args: dict[str, Any] = {
            "place": data["place"], "title": data["title"], "electorate": data["electorate"],
            "opens_at": data["opens_at"], "closes_at": data["closes_at"], "secret": data["secret"],
            "description": data["description"], "topic": data["topic"],
        }
        if data["electorate"] == Electorate.OWNERS:
            args["matter"] = data["matter"]
        else:
            labels = [line.strip() for line in (data["options"] or "").splitlines() if line.strip()]
            args["options"] = [(label, MEANING_OF_LABEL.get(label, OptionMeaning.CHOICE)) for label in labels]
            args["quorum"] = data["quorum"] or "1/2"
            args["majority"] = data["majority"] or "1/2"
            args["majority_strict"] = data["majority_strict"]
        return args


class PaperBallotForm(forms.Form):
    """A paper ballot: the voter (a unit for owners' votes, a resident for residents'), the option, a reason."""

    voter = forms.ChoiceField(label=_("投票人"))
    option = forms.ChoiceField(label=_("选择"), widget=forms.RadioSelect)
    reason = forms.CharField(label=_("录入事由"), max_length=200,
                             help_text=_("如：2024-05-06 业主在居委会现场填写纸质表决票，编号 0012。"))

    def __init__(self, *args: Any, voters: list[tuple[str, str]], options: list[tuple[str, str]],
                 voter_label: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["voter"].choices = [("", _("请选择…")), *voters]
        self.fields["voter"].label = voter_label
        self.fields["option"].choices = options
