"""Demo data: two accounts (to show isolation), a user of every role in each."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from accounts.models import Account, Role, User

DEMO_PASSWORD = "flowpilot-demo"  # noqa: S105 - printed for the demo on purpose


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    role: str


DEMO_ACCOUNTS: dict[tuple[str, str], list[DemoUser]] = {
    ("northwind", "Northwind MSP"): [
        DemoUser("olivia@northwind.example", "Olivia Grant", Role.OWNER),
        DemoUser("adam@northwind.example", "Adam Reyes", Role.ADMIN),
        DemoUser("jane@northwind.example", "Jane Cooper", Role.ENGINEER),
        DemoUser("sam@northwind.example", "Sam Patel", Role.ENGINEER),
        DemoUser("victor@northwind.example", "Victor Lane", Role.VIEWER),
    ],
    ("contoso", "Contoso IT Services"): [
        DemoUser("carla@contoso.example", "Carla Diaz", Role.OWNER),
        DemoUser("ben@contoso.example", "Ben Okafor", Role.ADMIN),
        DemoUser("ivy@contoso.example", "Ivy Chen", Role.ENGINEER),
        DemoUser("wes@contoso.example", "Wes Turner", Role.VIEWER),
    ],
}
SUPER_ADMIN = DemoUser("root@flowpilot.example", "Platform Admin", Role.OWNER)


@transaction.atomic
def seed() -> list[tuple[str, str, str, str]]:
    """Create or reset the demo accounts and users; returns (account, role, e-mail, name) rows."""
    rows = []
    for (slug, name), users in DEMO_ACCOUNTS.items():
        account, _ = Account.objects.update_or_create(slug=slug, defaults={"name": name})
        for demo in users:
            _upsert(account, demo, super_admin=False)
            rows.append((account.name, demo.role, demo.email, demo.name))
    platform, _ = Account.objects.update_or_create(slug="platform", defaults={"name": "Platform"})
    _upsert(platform, SUPER_ADMIN, super_admin=True)
    rows.append((platform.name, "super_admin", SUPER_ADMIN.email, SUPER_ADMIN.name))
    return rows


def _upsert(account: Account, demo: DemoUser, *, super_admin: bool) -> User:
    user = User.objects.filter(email=demo.email).first()
    if user is None:
        user = User(email=demo.email)
    user.account = account
    user.name = demo.name
    user.role = demo.role
    user.is_active = True
    user.is_super_admin = super_admin
    user.set_password(DEMO_PASSWORD)
    user.save()
    return user
