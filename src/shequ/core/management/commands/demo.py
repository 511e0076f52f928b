"""``shequ demo``: migrate, load the demo district when the database is empty, and serve it locally."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from shequ.registry import seed
from shequ.registry.models import Place


class Command(BaseCommand):
    help = "演示：迁移数据库，空库时生成长宁区演示数据，收集静态文件，然后在 127.0.0.1 上启动服务。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000, help="监听端口（默认8000）")
        parser.add_argument("--no-serve", action="store_true", help="只准备数据，不启动服务")
        parser.add_argument("--seed", type=int, default=2025, help="演示数据的随机种子")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write("迁移数据库…")
        call_command("migrate", interactive=False, verbosity=0)
        if not Place.objects.exists():
            self.stdout.write("数据库为空，生成演示数据（长宁区）…")
            call_command("seed", seed=options["seed"], verbosity=1, stdout=self.stdout)
        else:
            self.stdout.write("数据库已有数据，跳过生成演示数据。")
            accounts = list(seed.demo_accounts())
            for line in seed.format_accounts(accounts, seed.DEMO_PASSWORD) if accounts else []:
                self.stdout.write(line)
        if self.needs_collectstatic():
            self.stdout.write("收集静态文件…")
            call_command("collectstatic", interactive=False, verbosity=0)
        url = f"http://127.0.0.1:{options['port']}/"
        self.stdout.write(self.style.SUCCESS(f"\n社区云演示：{url}  （登录页 {url}login/）"))
        public_path = seed.demo_public_path()
        if public_path:
            self.stdout.write(f"居务公开（无需登录）：{url}c/{public_path}/")
        if options["no_serve"]:
            return
        call_command("runserver", f"127.0.0.1:{options['port']}", use_reloader=False)

    @staticmethod
    def needs_collectstatic() -> bool:
        """In debug the static files are served from their sources; otherwise they must be collected once."""
        if settings.DEBUG:
            return False
        root = settings.STATIC_ROOT
        return not (root.exists() and any(root.iterdir()))
