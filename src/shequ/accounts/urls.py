from django.urls import path

from shequ.accounts import auth_views, second_factor

urlpatterns = [
    path("login/", auth_views.login_view, name="login"),
    path("logout/", auth_views.logout_view, name="logout"),
    path("second-factor/", second_factor.second_factor, name="second_factor"),
]
# Pages for managing users, memberships and API tokens (namespace "accounts") are added below.
