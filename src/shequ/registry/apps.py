from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "shequ.registry"
    label = "registry"
    verbose_name = "基础数据"
