"""User management and API-token pages, namespace ``accounts`` (mounted at /accounts/)."""

from django.urls import path

from shequ.accounts import views

app_name = "accounts"
urlpatterns = [
    path("users/", views.user_list, name="user_list"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<int:pk>/", views.user_detail, name="user_detail"),
    path("users/<int:pk>/grant/", views.membership_grant, name="membership_grant"),
    path("users/<int:pk>/active/", views.user_set_active, name="user_set_active"),
    path("users/<int:pk>/password/", views.user_set_password, name="user_set_password"),
    path("memberships/<int:pk>/revoke/", views.membership_revoke, name="membership_revoke"),
    path("tokens/", views.token_list, name="token_list"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
]
