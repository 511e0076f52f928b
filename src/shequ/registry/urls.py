"""Registry pages. Each module of ``views/`` declares its own ``urlpatterns``; they are joined here."""

from shequ.registry.views import facilities, grids, organisations, people, places, self_service, vocabulary

app_name = "registry"
urlpatterns = [*places.urlpatterns, *people.urlpatterns]
urlpatterns += [*organisations.urlpatterns, *vocabulary.urlpatterns, *grids.urlpatterns, *facilities.urlpatterns]
urlpatterns += self_service.urlpatterns
