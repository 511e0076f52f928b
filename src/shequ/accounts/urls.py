from django.urls import path

from shequ.accounts import auth_views

urlpatterns = [
    path("login/", auth_views.login_view, name="login"),
    path("logout/", auth_views.logout_view, name="logout"),
]
# Pages for managing users, memberships and API tokens (namespace "accounts") are added below.
