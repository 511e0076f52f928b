"""Registry pages. Each module of ``views/`` declares its own ``urlpatterns``; they are joined here."""

from shequ.registry.views import places

app_name = "registry"
urlpatterns = [*places.urlpatterns]
