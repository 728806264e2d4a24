"""The offline runbook assistant in chat: matching, lane progression, fixes and outcomes."""

from __future__ import annotations

from typing import Any

import markdown
import pytest

from flowpilot.llm import LLMRequest, Message, get_llm_client
from flowpilot.llm.markers import ParsedReply, parse_markers
from flowpilot.llm.offline import OfflineClient
from flowpilot.llm.offline.chat import GENERIC_QUESTIONS, RUN_FIX_ACTION, phrase_found
from flowpilot.llm.offline.knowledge import PLACEHOLDER_RE, Runbook, load_runbooks, match_runbook
from flowpilot.llm.offline.playback import SessionPlayer, cause_named
from flowpilot.llm.offline.reasoning import rank_causes

PHRASINGS = {
    "outlook-sync": "Outlook keeps asking for her password and emails are not syncing",
    "vpn": "User can't connect to the SSL VPN from home, FortiClient stuck at 40%",
    "account-lockout": "Account keeps getting locked out every morning since the password change",
    "printer-spooler": "Nobody can print to the 2nd floor printer, jobs stuck in the queue",
    "dns-resolution": "Internal server names not resolving but we can ping them by IP",
    "disk-full": "C drive is full, Windows shows a low disk space warning",
    "onedrive-sync": "OneDrive not syncing, red X on files in Documents",
    "teams-av": "Others can't hear me in Teams meetings and the webcam isn't detected",
    "mapped-drives": "Mapped network drive S: shows disconnected after logon",
    "rdp": "Can't RDP to the accounting server, Remote Desktop says it can't connect",
    "slow-pc": "Laptop is very slow, takes ages to boot and freezes with high CPU",
    "certificate-errors": "Chrome shows NET::ERR_CERT_DATE_INVALID certificate error on intranet",
    "m365-signin": "Word says unlicensed product and she can't sign in to Microsoft 365",
    "mail-flow": "Customer emails to sales bounce back with a 550 5.7.1 NDR",
    "mailbox-permissions": "She can't send as the accounts shared mailbox and it's not showing",
    "outlook-addin": "Outlook hangs at start-up, not responding, since the new PDF add-in",
    "sharepoint-access": "Access denied opening the Finance SharePoint site from Teams",
    "intune-enrolment": "New laptop fails Autopilot enrolment with error 80180014",
    "bitlocker-recovery": "Laptop is asking for the BitLocker recovery key after a BIOS update",
    "windows-update": "Windows Update keeps failing with 0x800f0922 and undoing changes",
    "wifi-drops": "Her laptop keeps dropping off the office Wi-Fi",
    "dhcp-ip-conflict": "PC has a 169.254 address and no internet",
    "slow-logon-gpo": "Group Policy not applying and slow logon for the accounts team",
    "file-share-permissions": "Access denied on the S: drive Finance folder",
    "scan-to-email": "The copier's scan to email stopped working, SMTP authentication failed",
    "time-sync-kerberos": "The trust relationship between this workstation and the domain failed",
    "usb-dock-monitor": "External monitors show no signal on the USB-C docking station",
    "mfa-device-lost": "User lost her phone and can't do MFA with the Authenticator app",
    "password-expiry": "Password expired and he can't change it from home",
    "compromised-account": "User clicked a phishing link and entered her password",
    "ransomware": "Files on her PC have a strange extension and there's a ransom note",
    "onboarding": "New starter on Monday needs an account, mailbox and laptop",
    "offboarding": "Leaver's last day is Friday, disable the account and hand over the mailbox",
}


class Session:
    """Plays the session layer (``playback.SessionPlayer``) and returns parsed replies."""

    def __init__(self, problem: str) -> None:
        self.player = SessionPlayer(OfflineClient(), problem)

    @property
    def facts(self) -> list[str]:
        return self.player.facts

    @property
    def active_fix(self) -> dict[str, Any] | None:
        return self.player.active_fix

    @active_fix.setter
    def active_fix(self, value: dict[str, Any] | None) -> None:
        self.player.active_fix = value

    def say(self, text: str) -> ParsedReply:
        reply = self.player.say(text).reply
        assert reply.errors == []
        return reply


def test_get_llm_client_offline_is_the_runbook_assistant() -> None:
    """The offline provider is selected explicitly and labelled for the UI."""
    client = get_llm_client(provider="offline")

    assert client.name == "offline"
    assert client.label == "Offline runbook assistant"


@pytest.mark.parametrize(("runbook_id", "problem"), sorted(PHRASINGS.items()))
def test_each_runbook_is_matched_by_a_realistic_phrasing(runbook_id: str, problem: str) -> None:
    """Every runbook is recognised from a typical engineer's problem statement."""
    match = match_runbook([(problem, 2.0)])

    assert match is not None
    assert match.runbook.id == runbook_id


def test_every_runbook_has_a_matching_test_phrasing() -> None:
    """The parametrised phrasings cover the whole knowledge base."""
    assert {runbook.id for runbook in load_runbooks()} == set(PHRASINGS)


@pytest.mark.parametrize(
    "problem",
    [
        "The coffee machine in the kitchen is making strange noises",
        "Excel crashes when opening a spreadsheet",
        "The projector in the boardroom shows purple colours",
    ],
)
def test_unknown_problem_says_so_and_asks_for_specifics(problem: str) -> None:
    """Below the threshold the assistant admits it, asks for details and shows a generic lane."""
    reply = Session(problem).say(problem)

    assert "don't recognise" in reply.display_text
    assert "exact error message" in reply.display_text
    assert reply.tasks is not None
    assert [question.text for question in reply.tasks.questions] == list(GENERIC_QUESTIONS)
    assert reply.fix is None
    assert reply.promotions == []


def test_unknown_problem_is_picked_up_once_details_name_it() -> None:
    """A vague start becomes a runbook walk when a later message identifies the problem."""
    session = Session("Something is wrong with her computer")
    session.say("Something is wrong with her computer")

    reply = session.say("The error says the referenced account is currently locked out")

    assert "the account sign-in" in reply.display_text
    assert reply.tasks is not None
    assert reply.tasks.questions[0].text.startswith("Is the account actually locked")


def test_first_turn_acknowledges_plans_and_lists_the_runbook_lane() -> None:
    """Turn one: acknowledgement, a plan and every runbook question and check."""
    runbook = next(runbook for runbook in load_runbooks() if runbook.id == "printer-spooler")

    reply = Session(PHRASINGS["printer-spooler"]).say(PHRASINGS["printer-spooler"])

    assert runbook.title not in reply.display_text
    assert f"a problem with {runbook.topic}" in reply.display_text
    assert "**Plan**" in reply.display_text
    assert reply.tasks is not None
    assert [q.text for q in reply.tasks.questions] == [q.text for q in runbook.questions]
    assert [(c.label, c.command) for c in reply.tasks.checks] == [
        (check.label, check.command) for check in runbook.checks
    ]
    assert reply.fix is None


def _assert_fix_is_consistent(reply: ParsedReply) -> None:
    assert reply.fix is not None
    assert reply.fix.script.strip()
    placeholders = set(PLACEHOLDER_RE.findall(reply.fix.script))
    assert placeholders
    assert placeholders == {parameter.name for parameter in reply.fix.parameters}
    assert 0 <= reply.fix.confidence <= 100


def test_outlook_walk_promotes_facts_shrinks_lane_and_suggests_fix() -> None:
    """Outlook end to end: answers become facts, answered items leave the lane, then a fix."""
    session = Session(PHRASINGS["outlook-sync"])
    first = session.say(PHRASINGS["outlook-sync"])
    assert first.tasks is not None
    lane_before = [question.text for question in first.tasks.questions]

    reply = session.say(
        "Only her — OWA works fine in the browser. She changed her password yesterday."
    )

    assert {(p.text, p.source) for p in reply.promotions} == {
        ("Only this user is affected; other mailboxes sync normally (“Only her”).", "question"),
        (
            "Outlook on the web works for the account, so the mailbox and credentials are fine "
            "(“OWA works fine in the browser”).",
            "question",
        ),
        (
            "The user's password changed recently (“She changed her password yesterday”).",
            "question",
        ),
    }
    assert all(promotion.ref in lane_before for promotion in reply.promotions)
    assert reply.tasks is not None
    remaining = [question.text for question in reply.tasks.questions]
    assert remaining == [lane_before[3]]
    assert [action.label for action in reply.tasks.actions] == [RUN_FIX_ACTION]
    _assert_fix_is_consistent(reply)
    assert reply.fix is not None and "Outlook" in reply.fix.title


def test_vpn_walk_suggests_fix_then_records_check_output() -> None:
    """VPN end to end: answers give facts and a fix; later check output adds check facts only."""
    session = Session(PHRASINGS["vpn"])
    session.say(PHRASINGS["vpn"])

    first = session.player.records[0].reply
    # "stuck at 40%" in the problem already answered where it fails.
    assert [promotion.text for promotion in first.promotions] == [
        "The client fails before authenticating (it cannot establish the tunnel) "
        "(“User can't connect to the SSL VPN from home”).",
    ] or any("stuck at 40%" in promotion.text for promotion in first.promotions)

    second = session.say("Just her, everyone else is fine. It times out before the login page.")
    assert {promotion.text for promotion in second.promotions} == {
        "Only this user is affected; other users connect to the VPN normally "
        "(“everyone else is fine”).",
    }
    _assert_fix_is_consistent(second)
    assert second.fix is not None
    assert second.fix.title == "Reset the VPN client adapter and service"

    third = session.say("TcpTestSucceeded : True. Adapter status: Disabled")

    assert {(promotion.text, promotion.source) for promotion in third.promotions} == {
        (
            "The VPN gateway is reachable on port 443 from the user's network "
            "(“TcpTestSucceeded True”).",
            "check",
        ),
        (
            "The VPN virtual adapter is disabled or in an error state "
            "(“Adapter status: Disabled”).",
            "check",
        ),
    }
    assert third.fix is None
    assert third.tasks is not None
    assert [check.label for check in third.tasks.checks] == ["Check the VPN client service"]
    assert [action.label for action in third.tasks.actions] == [RUN_FIX_ACTION]


def test_printer_walk_suggests_the_spooler_fix_when_asked() -> None:
    """Printer: an answer without recognisable facts asks again; asking for a fix gets it."""
    session = Session(PHRASINGS["printer-spooler"])
    session.say(PHRASINGS["printer-spooler"])

    unclear = session.say("Not sure yet, I'll ask the office manager")
    assert unclear.promotions == []
    assert unclear.fix is None
    assert "I've read “Not sure yet”" not in unclear.display_text
    assert "ask the office manager" in unclear.display_text
    assert unclear.tasks is None

    asked = session.say("Jobs are stuck in the queue. What now?")

    # The problem statement already said the jobs are stuck: nothing is promoted twice.
    assert asked.promotions == []
    _assert_fix_is_consistent(asked)
    assert asked.fix is not None and "Print Spooler" in asked.fix.title


def test_negated_answers_do_not_confirm_facts() -> None:
    """'not only her' does not promote 'only this user'; the negative answer's own fact is."""
    session = Session(PHRASINGS["outlook-sync"])
    session.say(PHRASINGS["outlook-sync"])

    reply = session.say("It's not only her, several users in sales have it")

    texts = [promotion.text for promotion in reply.promotions]
    assert "Only this user is affected; other mailboxes sync normally." not in texts
    assert (
        "Several users are affected, which points to the service or network rather than one "
        "client (“several users in sales have it”)." in texts
    )


def test_facts_already_known_are_not_promoted_again() -> None:
    """A fact in context['facts'] is never re-promoted."""
    session = Session(PHRASINGS["outlook-sync"])
    session.say(PHRASINGS["outlook-sync"])
    session.facts.append("The user's password changed recently.")

    reply = session.say("She changed her password yesterday")

    assert reply.promotions == []


def test_bare_yes_answers_the_only_open_question() -> None:
    """'Yes' promotes the first fact of the single remaining question."""
    session = Session("Printing fails for Sam")
    session.say("Printing fails for Sam")
    session.say("Only me, and the jobs are stuck in the queue")
    session.active_fix = None

    reply = session.say("Yes")

    assert [promotion.ref for promotion in reply.promotions] == [
        "Does the printer print a test/configuration page from its own panel?"
    ]
    assert reply.promotions[0].text.endswith("(“Yes”).")


def test_bare_yes_never_picks_an_option_nobody_named() -> None:
    """A question listing options ("Disconnected" / "Need password") is not answered by 'yes'."""
    session = Session(PHRASINGS["outlook-sync"])
    session.say(PHRASINGS["outlook-sync"])
    session.say("Only her; OWA works; she changed her password")
    session.active_fix = None

    reply = session.say("Yes")

    assert reply.promotions == []


def test_fix_is_not_suggested_again_while_one_is_active() -> None:
    """With an active fix, later answers promote facts but do not suggest a new fix."""
    session = Session(PHRASINGS["outlook-sync"])
    session.say(PHRASINGS["outlook-sync"])
    session.say("Only her, OWA works")
    assert session.active_fix is not None

    reply = session.say("Status bar says Need password")

    assert reply.fix is None
    assert [promotion.text for promotion in reply.promotions] == [
        "Outlook's status bar, as reported: Status bar says Need password."
    ]


def test_that_worked_with_an_active_fix_proposes_success() -> None:
    """'That worked' with an active fix emits FIX_OUTCOME applied_success and clears the action."""
    session = Session(PHRASINGS["printer-spooler"])
    session.say(PHRASINGS["printer-spooler"])
    session.say("Jobs are stuck in the queue, test page prints fine from the panel")

    reply = session.say("Ran the script — that worked, everything is printing again")

    assert reply.outcome is not None
    assert reply.outcome.outcome == "applied_success"
    assert "that worked" in reply.outcome.reason
    assert reply.tasks is not None and reply.tasks.actions == []
    assert reply.fix is None


@pytest.mark.parametrize(
    ("message", "outcome"),
    [
        ("Didn't work, still stuck at 40%", "applied_failed"),
        ("Still failing with the same error", "applied_failed"),
        ("It's better but two users still can't connect", "applied_partial"),
    ],
)
def test_failure_reports_propose_failed_or_partial(message: str, outcome: str) -> None:
    """Failure or partial success with an active fix becomes the matching FIX_OUTCOME."""
    session = Session(PHRASINGS["vpn"])
    session.say(PHRASINGS["vpn"])
    session.active_fix = {
        "title": "Reset the VPN client adapter and service",
        "status": "proposed",
        "applied_at": "2026-11-30T10:00:00+00:00",
    }

    reply = session.say(message)

    assert reply.outcome is not None
    assert reply.outcome.outcome == outcome
    assert reply.outcome.reason == message


def test_diagnostic_answer_before_the_fix_is_applied_is_not_an_outcome() -> None:
    """ "It works on her hotspot" answers a question; it doesn't say the unapplied fix worked."""
    session = Session(PHRASINGS["vpn"])
    session.say(PHRASINGS["vpn"])
    session.active_fix = {"title": "Reset the VPN client adapter and service", "status": "proposed"}

    reply = session.say("It works on her phone hotspot. What should I do next?")

    assert reply.outcome is None


def test_worked_without_an_active_fix_proposes_nothing() -> None:
    """Success words without an active fix never produce FIX_OUTCOME."""
    session = Session(PHRASINGS["disk-full"])
    session.say(PHRASINGS["disk-full"])

    reply = session.say("The check worked, C is full with 0 bytes free")

    assert reply.outcome is None


def test_concluded_fix_gets_no_new_outcome_proposal() -> None:
    """A fix already recorded as worked is not proposed again."""
    session = Session(PHRASINGS["disk-full"])
    session.say(PHRASINGS["disk-full"])
    session.active_fix = {"title": "Clean temp files", "status": "applied_success"}

    reply = session.say("Yes it worked")

    assert reply.outcome is None
    assert "already recorded as having worked" in reply.display_text


def test_stream_yields_small_chunks_that_join_to_the_reply() -> None:
    """Offline streaming yields word groups and a result with rough token counts."""
    client = OfflineClient()
    request = LLMRequest(
        purpose="chat",
        tier="heavy",
        system="sys",
        messages=[Message("user", PHRASINGS["rdp"])],
        context={"problem": PHRASINGS["rdp"]},
    )

    stream = client.stream(request)
    chunks = list(stream)

    assert len(chunks) > 10
    assert all(len(chunk.split()) <= 3 for chunk in chunks)
    assert "".join(chunks) == stream.result.text == client.complete(request).text
    assert stream.result.output_tokens == (len(stream.result.text) + 3) // 4
    assert stream.result.provider == "offline"


def test_phrase_matching_respects_word_boundaries_and_clauses() -> None:
    """Phrases match whole words; a negator only counts inside the same clause."""
    assert phrase_found("no, only her", "only her")
    assert not phrase_found("not only her", "only her")
    assert not phrase_found("microsoft teams", "mic")
    assert phrase_found("the mic is fine", "mic")


@pytest.mark.parametrize("runbook_id", sorted(PHRASINGS))
def test_asking_for_a_fix_names_a_cause_of_each_runbook(runbook_id: str) -> None:
    """For every runbook, 'what should I do?' after the intro names its leading cause and
    either drafts that cause's consistent fix or gives its remedy steps."""
    session = Session(PHRASINGS[runbook_id])
    session.say(PHRASINGS[runbook_id])

    reply = session.say("What should I do next?")

    runbook = next(runbook for runbook in load_runbooks() if runbook.id == runbook_id)
    cause = cause_named(runbook, reply)
    assert cause is not None
    assert "**Likely cause:**" in reply.display_text
    if cause.fix is not None:
        _assert_fix_is_consistent(reply)
        assert reply.fix is not None and reply.fix.title == cause.fix.title
    else:
        assert reply.fix is None
        assert cause.steps[0] in reply.display_text


@pytest.mark.parametrize("runbook", load_runbooks(), ids=lambda runbook: runbook.id)
def test_without_evidence_the_runbooks_main_fix_comes_first(runbook: Runbook) -> None:
    """With no evidence at all, the cause carrying the runbook's main fix ranks first."""
    lead = rank_causes(runbook, set())[0]

    assert lead.cause.fix == runbook.fix


def _play(problem: str, *turns: str) -> list[ParsedReply]:
    session = Session(problem)
    replies = [session.say(problem)]
    replies += [session.say(turn) for turn in turns]
    return replies


def test_what_else_should_i_check_lists_the_open_checks() -> None:
    """'What else should I check?' gets the open checks, most useful first, and no fix."""
    replies = _play(
        PHRASINGS["vpn"], "only her, everyone else is fine", "what else should I check?"
    )

    reply = replies[-1]
    assert reply.fix is None
    assert "1. Show the VPN virtual adapter state" in reply.display_text
    assert "Check the VPN client service" in reply.display_text


def test_the_fix_reason_names_the_evidence() -> None:
    """The suggested fix says why, citing what the engineer reported."""
    replies = _play(
        "VPN not connecting for remote staff",
        "All 12 home users are affected, FortiClient, since last night's firewall firmware update",
    )

    text = replies[-1].display_text
    assert "**Likely cause:** The VPN gateway side" in text
    assert "Several users cannot connect and it started after a firmware update" in text
    assert "Reset the VPN client adapter" not in text


def test_a_failed_fix_is_followed_by_the_next_cause_never_the_same_fix() -> None:
    """After 'didn't work' the reply names the next cause; the next turn drafts its fix."""
    session = Session("Print jobs stuck in the queue for the reception PC")
    session.say("Print jobs stuck in the queue for the reception PC")
    first = session.say("what should I do?")
    assert first.fix is not None
    session.player.active_fix = {"title": first.fix.title, "status": "proposed", "applied_at": "x"}

    failed = session.say("Ran it, didn't work")
    assert failed.outcome is not None and failed.outcome.outcome == "applied_failed"
    assert failed.fix is None
    assert "most likely cause now" in failed.display_text
    session.player.active_fix = {"title": first.fix.title, "status": "applied_failed"}

    following = session.say("ok, what next?")
    assert following.fix is not None
    assert following.fix.title != first.fix.title


def test_broken_again_after_a_fix_worked_offers_reopen_and_the_next_cause() -> None:
    """'It's broken again' after success says how to reopen and moves past the old cause."""
    session = Session("Print jobs stuck in the queue on the 2nd floor printer")
    session.say("Print jobs stuck in the queue on the 2nd floor printer")
    first = session.say("what should I do?")
    assert first.fix is not None
    session.player.active_fix = {"title": first.fix.title, "status": "applied_success"}
    session.player.status = "resolved"

    reply = session.say("it's broken again today")

    assert "reopen it first" in reply.display_text
    assert reply.fix is not None and reply.fix.title != first.fix.title


def test_switching_runbook_says_so_and_replaces_the_lane() -> None:
    """Evidence for another problem switches the runbook and the reply says why."""
    replies = _play(
        "Sales team can't reach the file server over VPN from home",
        "the VPN connects fine, but names don't resolve",
    )

    reply = replies[-1]
    assert "points away from the VPN connection and towards name resolution" in reply.display_text
    assert reply.tasks is not None
    assert reply.tasks.questions[0].text == "Do internal names fail, external websites, or both?"


def test_an_unmatched_answer_is_acknowledged_in_its_own_words() -> None:
    """Words that answer nothing are quoted back, with the next open question."""
    replies = _play(PHRASINGS["printer-spooler"], "Not sure yet, I'll ask the office manager")

    assert "“I'll ask the office manager”" in replies[-1].display_text
    assert "Could you tell me" in replies[-1].display_text


@pytest.mark.parametrize("runbook_id", sorted(PHRASINGS))
def test_replies_read_like_a_colleague(runbook_id: str) -> None:
    """No runbook titles or ids, clean punctuation, lane counts that match the lane, and
    markdown lists that render as lists."""
    runbook = next(runbook for runbook in load_runbooks() if runbook.id == runbook_id)
    session = Session(PHRASINGS[runbook_id])
    replies = [session.say(PHRASINGS[runbook_id]), session.say("what should I do?")]
    intro = replies[0]
    assert intro.tasks is not None
    lane = (
        len(intro.tasks.questions) - sum(1 for p in intro.promotions if p.source == "question"),
        len(intro.tasks.checks) - sum(1 for p in intro.promotions if p.source == "check"),
    )
    counts = " and ".join(
        f"{n} {noun}{'' if n == 1 else 's'}"
        for n, noun in zip(lane, ("question", "check"), strict=True)
        if n
    )
    assert f"I've put {counts} in the task lane" in intro.display_text
    for reply in replies:
        text = reply.display_text
        assert runbook.title not in text
        if "-" in runbook.id:
            assert runbook.id not in text
        for bad in ("..", "?.", "!.", " ,", " .", ",,"):
            assert bad not in text.replace("...", "…"), (bad, text)
        html = markdown.markdown(text, extensions=["sane_lists"])
        if "\n- " in text or "\n1. " in text:
            assert "<ul>" in html or "<ol>" in html


def test_cause_boosts_from_the_context_change_the_suggested_fix() -> None:
    """A caller-supplied prior (past outcomes) moves a cause up the ranking."""
    client = OfflineClient()
    problem = "Print jobs stuck in the queue for the reception PC"
    messages = [Message("user", problem), Message("assistant", "…"), Message("user", "fix?")]

    def fix_title(context: dict[str, Any]) -> str:
        result = client.complete(
            LLMRequest(purpose="chat", tier="heavy", system="", messages=messages, context=context)
        )
        parsed = parse_markers(result.text)
        assert parsed.fix is not None
        return parsed.fix.title

    plain = fix_title({"problem": problem})
    boosted = fix_title({"problem": problem, "cause_boosts": {"printer-spooler:network": 20.0}})

    assert plain == "Clear the stuck print queue and restart the Print Spooler"
    assert boosted == "Point the printer at its current IP address"
