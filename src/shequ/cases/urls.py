"""Case pages (工单), mounted at /cases/."""

from django.urls import path

from shequ.cases import views

app_name = "cases"

urlpatterns = [
    path("", views.cases_home, name="home"),
    path("all/", views.case_list, name="list"),
    path("inbox/", views.inbox, name="inbox"),
    path("tasks/", views.tasks, name="tasks"),
    path("street/", views.street, name="street"),
    path("mine/", views.mine, name="mine"),
    path("report/", views.report, name="report"),
    path("report/duplicates/", views.duplicates, name="duplicates"),
    path("map/", views.case_map, name="map"),
    path("map.geojson", views.map_data, name="map_data"),
    path("figures/", views.figures, name="figures"),
    path("dispatches/", views.dispatches, name="dispatches"),
    path("dispatches/<int:pk>/<str:step>/", views.dispatch_work, name="dispatch_work"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/dispatch/", views.dispatch, name="dispatch"),
    path("<int:pk>/files/<int:file_pk>/", views.case_file, name="file"),
    path("<int:pk>/<str:action>/", views.case_act, name="act"),
]
