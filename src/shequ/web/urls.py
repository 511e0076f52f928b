from django.urls import path

from shequ.web import views

urlpatterns = [
    path("", views.home, name="home"),
]
