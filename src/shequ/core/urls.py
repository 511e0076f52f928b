from django.urls import path

from shequ.core import views

app_name = "core"
urlpatterns = [
    path("", views.audit_list, name="audit_list"),
    path("verify/", views.audit_verify_view, name="audit_verify"),
]
