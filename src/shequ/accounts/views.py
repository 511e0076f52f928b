"""Account pages: managing users and their roles (用户与授权), and one's own API tokens (API令牌).

A manager (区级管理员, 居委会主任) sees the users who hold a role inside their subtree; every change goes
through ``accounts.services``, which checks the role may be granted at that node and audits it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from shequ.accounts import selectors, services
from shequ.accounts.forms import GrantForm, SetPasswordForm, TokenCreateForm, UserCreateForm, UserFilterForm
from shequ.accounts.models import User
from shequ.accounts.roles import GRANTABLE_ROLES, ROLE_PLACE_KINDS, Capability
from shequ.core.errors import PermissionDenied, ValidationFailed
from shequ.core.forms import apply_service_errors, paginate
from shequ.core.scope import restrict
from shequ.registry import selectors as registry_selectors
from shequ.registry.choices import PlaceKind
from shequ.registry.models import Place
from shequ.web.http import domain_errors

# Grants are made at these levels from the page; finer nodes (楼栋, 户) would make the list unusable.
GRANT_PLACE_KINDS = frozenset({PlaceKind.DISTRICT, PlaceKind.STREET, PlaceKind.COMMUNITY})


def locked_out(request: HttpRequest, credentials: dict | None = None, *args: object, **kwargs: object) -> HttpResponse:
    """Shown instead of the login form once an account has had too many failures this hour."""
    return render(request, "accounts/locked_out.html", status=429)


# --- helpers ----------------------------------------------------------------------------------------


def _require_manager(request: HttpRequest) -> None:
    if not request.user.has_capability(Capability.ACCOUNTS_MANAGE):  # type: ignore[union-attr]
        raise PermissionDenied(_("只有区级管理员和居委会主任可以管理用户。"))


def _grantable_roles(actor: Any) -> frozenset[str]:
    """Every role the actor may grant somewhere (the service checks each node again)."""
    roles: set[str] = set()
    for m in actor.active_memberships():
        roles |= GRANTABLE_ROLES.get(m.role, frozenset())
    return frozenset(roles)


def _grant_places(actor: Any, roles: frozenset[str]) -> QuerySet[Place]:
    kinds = {k for r in roles for k in ROLE_PLACE_KINDS.get(r, frozenset())} & GRANT_PLACE_KINDS
    places = registry_selectors.place_list(actor=actor).filter(kind__in=kinds)
    return restrict(places, actor, capability=Capability.ACCOUNTS_MANAGE)


def _grant_form(actor: Any, data: Any = None, *, form_class: type[GrantForm] = GrantForm) -> GrantForm:
    roles = _grantable_roles(actor)
    return form_class(data, roles=roles, places=_grant_places(actor, roles))


def _detail(request: HttpRequest, user: User, *, grant_form: GrantForm | None = None,
            password_form: SetPasswordForm | None = None, status: int = 200) -> HttpResponse:
    return render(request, "accounts/user_detail.html", {
        "subject": user,
        "memberships": selectors.membership_list(actor=request.user, user=user),
        "grant_form": grant_form or _grant_form(request.user),
        "password_form": password_form or SetPasswordForm(),
        "is_self": user.pk == request.user.pk,
    }, status=status)


# --- users ------------------------------------------------------------------------------------------


@login_required
@domain_errors
def user_list(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    filters = UserFilterForm(request.GET or None)
    q = role = ""
    if filters.is_valid():
        q, role = filters.cleaned_data["q"].strip(), filters.cleaned_data["role"]
    users = selectors.user_list(actor=request.user, q=q, role=role).prefetch_related("memberships__place")
    page, query = paginate(request, users)
    rows = [{"user": u, "roles": [m for m in u.memberships.all() if m.active]} for u in page]
    return render(request, "accounts/user_list.html", {"filters": filters, "page_obj": page, "rows": rows,
                                                       "query": query})


@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def user_create(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    form = _grant_form(request.user, request.POST or None, form_class=UserCreateForm)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.user_create(actor=request.user, username=data["username"], password=data["password1"],
                                        display_name=data["display_name"], email=data["email"],
                                        place=data["place"], role=data["role"])
        except ValidationFailed as exc:
            apply_service_errors(form, exc, aliases={"password": "password1"})
        except PermissionDenied as exc:
            form.add_error("role", str(exc.message))
        else:
            messages.success(request, _("已创建用户“%(name)s”。") % {"name": user.username})
            return redirect("accounts:user_detail", pk=user.pk)
    return render(request, "accounts/user_form.html", {"form": form})


@login_required
@domain_errors
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    return _detail(request, selectors.user_get(actor=request.user, user_id=pk))


@login_required
@domain_errors
@require_POST
def membership_grant(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    user = selectors.user_get(actor=request.user, user_id=pk)
    form = _grant_form(request.user, request.POST)
    if form.is_valid():
        try:
            services.membership_grant(actor=request.user, user=user, place=form.cleaned_data["place"],
                                      role=form.cleaned_data["role"])
        except ValidationFailed as exc:
            apply_service_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error("role", str(exc.message))
        else:
            messages.success(request, _("已授权。"))
            return redirect("accounts:user_detail", pk=user.pk)
    return _detail(request, user, grant_form=form, status=400)


@login_required
@domain_errors
@require_POST
def membership_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    membership = selectors.membership_get(actor=request.user, membership_id=pk)
    services.membership_revoke(actor=request.user, membership=membership)
    messages.success(request, _("已撤销“%(role)s”授权。") % {"role": membership.get_role_display()})
    return redirect("accounts:user_detail", pk=membership.user_id)


@login_required
@domain_errors
@require_POST
def user_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    user = selectors.user_get(actor=request.user, user_id=pk)
    active = request.POST.get("active") == "1"
    if user.pk == request.user.pk and not active:
        raise PermissionDenied(_("不能停用自己的账号。"))
    services.user_set_active(actor=request.user, user=user, active=active)
    messages.success(request, _("账号已启用。") if active else _("账号已停用，该用户将无法登录。"))
    return redirect("accounts:user_detail", pk=user.pk)


@login_required
@domain_errors
@require_POST
def user_set_password(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    user = selectors.user_get(actor=request.user, user_id=pk)
    form = SetPasswordForm(request.POST)
    if form.is_valid():
        try:
            services.user_set_password(actor=request.user, user=user, password=form.cleaned_data["password1"])
        except ValidationFailed as exc:
            apply_service_errors(form, exc, aliases={"password": "password1"})
        else:
            messages.success(request, _("已设置新密码，请当面或电话告知本人。"))
            return redirect("accounts:user_detail", pk=user.pk)
    return _detail(request, user, password_form=form, status=400)


# --- API tokens: each signed-in user manages their own ---------------------------------------------


@never_cache
@login_required
@domain_errors
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    form = TokenCreateForm(request.POST or None)
    new_token = ""
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["days"]
        expires_at = timezone.now() + dt.timedelta(days=days) if days else None
        try:
            _token, new_token = services.api_token_create(actor=request.user, user=request.user,  # type: ignore[arg-type]
                                                          name=form.cleaned_data["name"], expires_at=expires_at)
        except ValidationFailed as exc:
            apply_service_errors(form, exc)
        else:
            form = TokenCreateForm()
    return render(request, "accounts/token_list.html", {
        "tokens": selectors.api_token_list(user=request.user),  # type: ignore[arg-type]
        "form": form, "new_token": new_token, "now": timezone.now(),
    })


@login_required
@domain_errors
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = selectors.api_token_list(user=request.user).filter(pk=pk).first()  # type: ignore[arg-type]
    if token is None:
        raise Http404()
    services.api_token_revoke(actor=request.user, token=token)
    messages.success(request, _("已撤销令牌“%(name)s”，使用它的程序将无法再访问。") % {"name": token.name})
    return redirect("accounts:token_list")
