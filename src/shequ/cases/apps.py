from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "shequ.cases"
    label = "cases"
    verbose_name = "一网统管"
