"""Sign in and out (登录、退出).

Throttling is django-axes' (settings ``AXES_*``): the authentication backend refuses a locked account
and the middleware answers with ``accounts.views.locked_out``. Django renews the session key at login
and flushes the session at logout. Audit rows for login, failed login and logout are written by the
signal receivers below, connected in ``AccountsConfig.ready``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import views as auth
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.utils.translation import gettext_lazy as _

from shequ.core.audit import audit_record
from shequ.core.models import AuditAction

LOGIN_INVALID = _("用户名或密码不正确，请重新输入。注意密码区分大小写。")
LOGIN_INACTIVE = _("该账号已停用，请联系管理员。")


class LoginForm(AuthenticationForm):
    error_messages = {"invalid_login": LOGIN_INVALID, "inactive": LOGIN_INACTIVE}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("用户名")
        self.fields["password"].label = _("密码")
        self.fields["username"].widget = forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        )
        self.fields["username"].error_messages["required"] = _("请输入用户名。")
        self.fields["password"].error_messages["required"] = _("请输入密码。")


login_view = auth.LoginView.as_view(
    template_name="accounts/login.html", authentication_form=LoginForm, redirect_authenticated_user=True
)
logout_view = auth.LogoutView.as_view()


# --- Audit of signing in and out (QUALITY §9) ---

def on_logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_record(actor=user, action=AuditAction.LOGIN, obj=user)


def on_logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None and getattr(user, "is_authenticated", False):
        audit_record(actor=user, action=AuditAction.LOGOUT, obj=user)


def on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    # Django has already replaced the password in ``credentials`` with asterisks; keep only the name.
    username = str(credentials.get("username", ""))[:150]
    audit_record(actor=None, action=AuditAction.LOGIN_FAILED, object_type="accounts.user",
                 object_repr=username, outcome="failure")


def connect_audit_signals() -> None:
    user_logged_in.connect(on_logged_in, dispatch_uid="shequ.accounts.audit_login")
    user_logged_out.connect(on_logged_out, dispatch_uid="shequ.accounts.audit_logout")
    user_login_failed.connect(on_login_failed, dispatch_uid="shequ.accounts.audit_login_failed")
