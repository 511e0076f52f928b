from django.apps import AppConfig


class LedgersConfig(AppConfig):
    name = "shequ.ledgers"
    label = "ledgers"
    verbose_name = "台账导入导出与人员比对"
