from django.urls import include, path

from shequ.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("", include("shequ.web.views_inbox")),
]
