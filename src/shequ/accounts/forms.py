"""Forms of the user-management and API-token pages. Rules are the services'; forms only parse."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from shequ.accounts.roles import Role
from shequ.registry.models import Place

PASSWORDS_DIFFER = _("两次输入的密码不一致。")
PASSWORD_HELP = _("至少12个字符，不能全是数字，不要与用户名相近。")


class PlaceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Place) -> str:  # type: ignore[override]
        return f"{obj.name}（{obj.get_kind_display()}）"


def role_choices(roles: frozenset[str] | set[str]) -> list[tuple[str, Any]]:
    """The roles in ``roles`` in the order of ``Role`` (lowest first), with their labels."""
    return [(value, label) for value, label in Role.choices if value in roles]


class UserFilterForm(forms.Form):
    q = forms.CharField(label=_("用户名或姓名"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"type": "search"}))
    role = forms.ChoiceField(label=_("角色"), required=False, choices=[("", _("全部角色")), *Role.choices])


class GrantForm(forms.Form):
    role = forms.ChoiceField(label=_("角色"))
    place = PlaceChoiceField(label=_("区域"), queryset=Place.objects.none(), empty_label=_("请选择…"),
                             help_text=_("居民、网格员、社区工作者和居委会主任授予在居村一级，街道干部在街镇一级。"))

    def __init__(self, *args: Any, roles: frozenset[str] | set[str] = frozenset(),
                 places: QuerySet[Place] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices(roles)
        self.fields["place"].queryset = places if places is not None else Place.objects.none()


class PasswordPairMixin(forms.Form):
    password1 = forms.CharField(label=_("密码"), strip=False, help_text=PASSWORD_HELP,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(label=_("再次输入密码"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean_password2(self) -> str:
        p1, p2 = self.cleaned_data.get("password1"), self.cleaned_data.get("password2")
        if p1 and p2 and p1 != p2:
            raise forms.ValidationError(PASSWORDS_DIFFER)
        return p2 or ""


class UserCreateForm(GrantForm, PasswordPairMixin):
    """A new account and its first role: a user without a role would be invisible to its manager."""

    username = forms.CharField(label=_("用户名"), max_length=150,
                               help_text=_("登录用，建议用拼音或工号，创建后不能修改。"),
                               widget=forms.TextInput(attrs={"autocapitalize": "none", "spellcheck": "false"}))
    display_name = forms.CharField(label=_("姓名"), max_length=50, required=False)
    email = forms.EmailField(label=_("电子邮箱"), required=False)

    field_order = ["username", "display_name", "email", "password1", "password2", "role", "place"]


class SetPasswordForm(PasswordPairMixin):
    pass


class TokenCreateForm(forms.Form):
    name = forms.CharField(label=_("用途"), max_length=100,
                           help_text=_("写明这个令牌给哪个程序用，如“街道大屏”，便于日后撤销。"))
    days = forms.IntegerField(label=_("有效天数"), required=False, min_value=1, max_value=366,
                              help_text=_("留空表示长期有效（不推荐）。"))


class NotificationEmailForm(forms.Form):
    """The address for 邮件提醒; empty clears it. The service validates it."""

    email = forms.CharField(label=_("接收提醒的电子邮箱"), required=False, max_length=254,
                            help_text=_("留空表示不接收邮件提醒，消息仍会出现在这里。"),
                            widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}))
