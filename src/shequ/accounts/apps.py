from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "shequ.accounts"
    label = "accounts"
    verbose_name = "账号与权限"

    def ready(self) -> None:
        from shequ.accounts import auth_views

        auth_views.connect_audit_signals()
