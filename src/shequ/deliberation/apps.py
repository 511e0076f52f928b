from django.apps import AppConfig


class DeliberationConfig(AppConfig):
    name = "shequ.deliberation"
    label = "deliberation"
    verbose_name = "议事协商与居务公开"
