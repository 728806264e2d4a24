"""
Data for the simulator. ``seed_base`` gives the boards, statuses, priorities, members and
companies every run has; ``seed_tickets`` adds deterministic, realistic MSP tickets (the same
seed always gives the same tickets); ``seed_demo`` is both, with a few thousand tickets.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from psa.simulator.store import SimulatorState

BOARDS = {
    "Service Desk": [
        ("New", False, True),
        ("In Progress", False, False),
        ("Waiting on Customer", False, False),
        ("Escalated", False, False),
        ("Resolved", True, False),
        (">Closed", True, False),
    ],
    "Projects": [
        ("New", False, True),
        ("In Progress", False, False),
        ("On Hold", False, False),
        ("Escalated", False, False),
        ("Resolved", True, False),
    ],
}
PRIORITIES = [
    ("Priority 1 - Emergency Response", "Critical"),
    ("Priority 2 - Quick Response", "High"),
    ("Priority 3 - Normal Response", "Medium"),
    ("Priority 4 - Schedule Maintenance", "Low"),
]
MEMBERS = [
    ("ivy.chen", "Ivy", "Chen", "ivy@contoso.example"),
    ("ben.okafor", "Ben", "Okafor", "ben@contoso.example"),
    ("carla.diaz", "Carla", "Diaz", "carla@contoso.example"),
    ("jane.cooper", "Jane", "Cooper", "jane@northwind.example"),
    ("sam.patel", "Sam", "Patel", "sam@northwind.example"),
    ("mtorres", "Maya", "Torres", "maya.torres@msp.example"),
    ("dkim", "Daniel", "Kim", "daniel.kim@msp.example"),
    ("rhughes", "Rosa", "Hughes", "rosa.hughes@msp.example"),
]
COMPANIES = [
    ("AcmeCorp", "Acme Corp"),
    ("BlueRiverDental", "Blue River Dental"),
    ("CedarLaw", "Cedar & Finch Law"),
    ("DeltaLogistics", "Delta Logistics"),
    ("EvergreenSchools", "Evergreen Schools"),
    ("FoxglovePharmacy", "Foxglove Pharmacy"),
    ("GraniteCPA", "Granite CPA Group"),
    ("HarborMarine", "Harbor Marine Supply"),
    ("IronwoodMfg", "Ironwood Manufacturing"),
    ("JuniperClinic", "Juniper Family Clinic"),
    ("KestrelArch", "Kestrel Architects"),
    ("LakesideHotel", "Lakeside Hotel"),
]
PROBLEMS = [
    ("Outlook keeps asking for a password", "Mail stopped syncing after the password change."),
    ("VPN won't connect from home", "Error 809 since this morning; other users are fine."),
    ("Printer offline in reception", "The front-desk printer shows offline for everyone."),
    ("New starter needs a laptop and accounts", "Starts Monday in Accounts."),
    ("Shared drive S: missing after reboot", "Mapped drive gone for the whole finance team."),
    ("Teams calls drop after a minute", "Audio cuts out on every call from the office Wi-Fi."),
    ("OneDrive not syncing Desktop folder", "Red cross on the OneDrive icon, files not uploading."),
    ("Slow PC, disk at 100%", "Takes ten minutes to open Excel."),
    ("MFA prompt loop on the phone app", "Authenticator keeps asking to approve."),
    ("Backup job failed overnight", "The NAS backup reported 'access denied' at 02:00."),
    ("Wi-Fi drops in the warehouse", "Scanners lose connection near dock 3."),
    ("Phishing e-mail reported", "User clicked a link in a fake invoice e-mail."),
    ("Scanner to e-mail stopped working", "The copier cannot send scans since Friday."),
    ("Server disk space low on FS01", "D: has 3% free."),
    ("Cannot open PDF attachments", "Adobe reports the file is damaged."),
    ("Line-of-business app will not start", "Error 'database connection failed'."),
    ("Password reset for a locked-out user", "Locked after too many attempts."),
    ("Firewall firmware update", "Scheduled maintenance for the branch firewall."),
    ("Migrate mailboxes to Exchange Online", "Project: 45 mailboxes."),
    ("Replace failing switch in comms room", "Port errors on the core switch."),
]
CONTACTS = ["Dana Smith", "Lee Wong", "Priya Nair", "Tom Becker", "Ana Ruiz", "Omar Haddad"]


def seed_base(state: SimulatorState) -> None:
    with state.lock:
        for name, statuses in BOARDS.items():
            board = state.add_board(name, project=name == "Projects")
            for status_name, closed, default in statuses:
                state.add_status(board["id"], status_name, closed=closed, default=default)
        for sort, (name, level) in enumerate(PRIORITIES, start=1):
            state.add_priority(name, level, sort)
        for identifier, first, last, email in MEMBERS:
            state.add_member(identifier, first, last, email)
        for identifier, name in COMPANIES:
            state.add_company(identifier, name)


def seed_tickets(state: SimulatorState, count: int, *, seed: int = 930) -> None:
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    start = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    with state.lock:
        boards = list(state.boards.values())
        companies = list(state.companies)
        priorities = list(state.priorities)
        identifiers = [m["identifier"] for m in state.members.values()]
        for index in range(count):
            board = boards[0] if rng.random() < 0.8 else boards[-1]
            statuses = [s for s in state.statuses.values() if s["board"]["id"] == board["id"]]
            weights = [6 if not s["closedStatus"] else 2 for s in statuses]
            status = rng.choices(statuses, weights=weights)[0]
            summary, description = rng.choice(PROBLEMS)
            assigned = rng.sample(identifiers, k=rng.choice([0, 1, 1, 1, 2]))
            entered = start + timedelta(minutes=37 * index)
            state.add_ticket(
                summary=summary,
                board_id=board["id"],
                company_id=rng.choice(companies),
                status_id=status["id"],
                priority_id=rng.choice(priorities),
                resources=", ".join(assigned),
                initial_description=description,
                contact_name=rng.choice(CONTACTS),
                entered=entered.strftime("%Y-%m-%dT%H:%M:%SZ"),
                entered_by=rng.choice(identifiers),
            )


def seed_demo(state: SimulatorState, *, tickets: int = 3000) -> None:
    seed_base(state)
    seed_tickets(state, tickets)
