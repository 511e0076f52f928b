from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "shequ.core"
    label = "core"
    verbose_name = "核心"

    def ready(self) -> None:
        from shequ.core import idempotency  # noqa: F401  (registers its retention policy)
