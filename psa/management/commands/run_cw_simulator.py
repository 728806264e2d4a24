"""``manage.py run_cw_simulator``: the local ConnectWise Manage simulator, until Ctrl+C."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from psa.simulator.seed import seed_base, seed_demo, seed_tickets
from psa.simulator.server import Simulator
from psa.simulator.store import SimulatorState

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class Command(BaseCommand):
    help = "Serve the ConnectWise Manage simulator (plain HTTP, loopback only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
        parser.add_argument("--port", type=int, default=8930)
        parser.add_argument(
            "--seed",
            choices=["demo", "base"],
            default="base",
            help="demo: boards, members, companies and a few thousand tickets; base: no tickets",
        )
        parser.add_argument("--tickets", type=int, default=3000, help="tickets for --seed demo")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["host"] not in LOOPBACK:
            raise CommandError("The simulator speaks plain HTTP and binds to loopback only.")
        state = SimulatorState()
        if options["seed"] == "demo":
            seed_demo(state, tickets=options["tickets"])
        else:
            seed_base(state)
            seed_tickets(state, 0)
        simulator = Simulator(state, host=options["host"], port=options["port"])
        creds = state.credentials
        self.stdout.write(
            self.style.SUCCESS(
                f"ConnectWise simulator on http://{simulator.site} "
                f"({len(state.tickets)} tickets). Ctrl+C to stop."
            )
        )
        self.stdout.write(
            f"  site {simulator.site}  company {creds.company}  public key {creds.public_key}\n"
            f"  private key {creds.private_key}  clientId {creds.client_id}"
        )
        try:
            simulator.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            simulator.httpd.server_close()
