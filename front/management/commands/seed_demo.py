from __future__ import annotations

import importlib
from typing import Any

from django.core.management.base import BaseCommand

from accounts import demo

# Each app that has demo content exposes `seed()` in `<app>/demo.py`; they run after the
# accounts and users, in this order. An app without demo content yet is skipped.
EXTRA_SEEDERS = [
    "sessions_app.demo",
    "sessions_app.memory.demo",
    "scripts.demo",
    "psa.demo",
    "handoffs.demo",
]


class Command(BaseCommand):
    help = "Create or refresh the demo accounts, users and content. Safe to run again."

    def add_arguments(self, parser: Any) -> None:
        # `make demo` passes the port daphne is started on, so the printed link is the real one.
        parser.add_argument("--port", type=int, default=8000, help="Port the demo serves on.")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = demo.seed()
        for module_name in EXTRA_SEEDERS:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise
                continue
            module.seed()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready. Sign in at http://127.0.0.1:{options['port']}/login"
            )
        )
        self.stdout.write(f"Password for every demo user: {demo.DEMO_PASSWORD}\n")
        width = max(len(r[2]) for r in rows)
        for account, role, email, name in rows:
            self.stdout.write(f"  {email.ljust(width)}  {role:<12} {name} ({account})")
