"""How the offline assistant reads an engineer's message: clauses, tokens, negation, pasted
PowerShell output, and the evidence signals every runbook shares (scope, pattern, recent
change, environment).

Everything here is plain text processing with no model: a message is split into clauses (one
per sentence part, list line or table row), each clause into canonical tokens, and a phrase is
found in a clause when its content tokens occur close together. A negator earlier in the same
clause (or between the phrase's words) flips the finding, so "not on the hotspot either" denies
what "on the hotspot" would assert.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

NEGATORS = frozenset(
    {
        "not",
        "no",
        "never",
        "nope",
        "nor",
        "neither",
        "without",
        "don't",
        "dont",
        "doesn't",
        "doesnt",
        "didn't",
        "didnt",
        "isn't",
        "isnt",
        "wasn't",
        "wasnt",
        "aren't",
        "arent",
        "weren't",
        "werent",
        "hasn't",
        "hasnt",
        "haven't",
        "havent",
        "can't",
        "cant",
        "cannot",
        "couldn't",
        "couldnt",
        "won't",
        "wont",
        "wouldn't",
        "shouldn't",
    }
)
# Words a phrase may skip: "works on hotspot" still matches "works from the hotspot".
FILLER = frozenset(
    [
        "a",
        "an",
        "the",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "it",
        "its",
        "it's",
        "to",
        "of",
        "on",
        "in",
        "at",
        "for",
        "from",
        "with",
        "by",
        "as",
        "my",
        "our",
        "your",
        "their",
        "there",
        "do",
        "does",
        "did",
        "has",
        "have",
        "had",
        "get",
        "got",
        "also",
        "too",
        "either",
        "really",
        "then",
        "so",
        "very",
    ]
)

_TOKEN_RE = re.compile(r"[a-z0-9][a-z0-9_'.\-]*[a-z0-9]|[a-z0-9]")
_CLAUSE_SPLIT_RE = re.compile(
    r"[.;!?\n]+(?=\s|$)|[;!?\n]|,\s+|\s+(?:but|although|though|however|whereas|and then)\s+"
    r"|\s+-{1,2}\s+|\s+\u2014\s+|\s+\u2013\s+"
)
_RULE_RE = re.compile(r"^\s*-{2,}(?:\s+-{2,})*\s*$")
_LIST_LINE_RE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9 _./()-]{0,60}?)\s*:\s+(.*)$")


@dataclass(frozen=True)
class Clause:
    """One unit of an engineer's message: the original words and their canonical tokens."""

    text: str
    tokens: tuple[str, ...]


def normalize(text: str) -> str:
    """Lower-case text with straight quotes, single spaces and ``Key : value`` folded to
    ``key value`` so pasted PowerShell output matches the runbook phrases."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    text = re.sub(r"\s*:\s+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def stem(token: str) -> str:
    """A deliberately small suffix stripper: enough to fold plurals and -ing/-ed forms."""
    if "'" in token or token.isdigit():
        return token
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 4 and token.endswith("sses"):
        return token[:-2]
    if len(token) > 5 and token.endswith("ing"):
        return token[:-3]
    if len(token) > 4 and token.endswith("ed"):
        return token[:-2]
    if len(token) > 3 and token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


def raw_tokens(text: str) -> list[str]:
    return [token.strip("'.-") for token in _TOKEN_RE.findall(normalize(text))]


def flatten_output(text: str) -> list[str]:
    """Lines of a message with pasted PowerShell output made readable as ``key value`` pairs.

    A table (a header line, a line of dashes, rows) becomes one line per row pairing every
    header with its cell; ``Name : Value`` list lines become ``name value``. Prose lines pass
    through unchanged.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if index + 1 < len(lines) and _RULE_RE.match(lines[index + 1]) and line.strip():
            columns = _columns(lines[index + 1])
            headers = [_cell(line, start, end) for start, end in columns]
            index += 2
            while index < len(lines) and lines[index].strip():
                row = lines[index]
                cells = [_cell(row, start, end) for start, end in columns]
                pairs = [
                    f"{head} {cell}" for head, cell in zip(headers, cells, strict=True) if cell
                ]
                out.append(" ".join(pairs))
                index += 1
            continue
        match = _LIST_LINE_RE.match(line)
        if match and not match.group(1).strip().lower().startswith(("http", "https")):
            out.append(f"{match.group(1).strip()} {match.group(2).strip()}")
        else:
            out.append(line)
        index += 1
    return [line for line in out if line.strip()]


def _columns(rule: str) -> list[tuple[int, int | None]]:
    spans = [(match.start(), match.end()) for match in re.finditer(r"-+", rule)]
    columns: list[tuple[int, int | None]] = []
    for position, (start, _end) in enumerate(spans):
        following = spans[position + 1][0] if position + 1 < len(spans) else None
        columns.append((start, following))
    return columns


def _cell(line: str, start: int, end: int | None) -> str:
    return line[start:end].strip() if end is not None else line[start:].strip()


def split_clauses(text: str) -> list[str]:
    """The clauses of a message, in order: list lines, table rows and sentence parts."""
    clauses: list[str] = []
    for line in flatten_output(text):
        for part in _CLAUSE_SPLIT_RE.split(line):
            part = part.strip(" \t\"'()[]*-\u2022")
            if part and re.search(r"[A-Za-z0-9]", part):
                clauses.append(part)
    return clauses


class Vocabulary:
    """Canonical words for one runbook: phrase synonyms folded first ("outlook on the web" →
    "owa"), then stemming. Built once per runbook; ``canon`` is cached per word."""

    def __init__(self, synonyms: Mapping[str, str]) -> None:
        pairs = sorted(
            ((normalize(key), normalize(value)) for key, value in synonyms.items()),
            key=lambda pair: -len(pair[0]),
        )
        self._pairs = tuple(pairs)
        self._pattern = (
            re.compile(
                r"(?<![a-z0-9])(" + "|".join(re.escape(key) for key, _ in pairs) + r")(?![a-z0-9])"
            )
            if pairs
            else None
        )
        self._map = dict(pairs)

    def extended(self, synonyms: Mapping[str, str]) -> Vocabulary:
        """This vocabulary plus ``synonyms`` (which win on the same key)."""
        return Vocabulary({**dict(self._pairs), **dict(synonyms)})

    def tokens(self, text: str) -> tuple[str, ...]:
        normalized = normalize(text)
        if self._pattern is not None:
            normalized = self._pattern.sub(lambda match: self._map[match.group(1)], normalized)
        return tuple(stem(token) for token in raw_tokens(normalized) if token)


GLOBAL_VOCABULARY = Vocabulary(
    {
        "everybody": "everyone",
        "every one": "everyone",
        "no-one": "nobody",
        "no one": "nobody",
        "wi-fi": "wifi",
        "wlan": "wifi",
        "wireless": "wifi",
        "re-boot": "reboot",
        "restarted": "reboot",
        "rebooted": "reboot",
        "ps output": "output",
        "hot spot": "hotspot",
        "mobile hotspot": "hotspot",
        "tethering": "hotspot",
        "tethered": "hotspot",
        "4g": "hotspot",
        "5g": "hotspot",
        "mobile data": "hotspot",
    }
)


def find_phrase(tokens: Sequence[str], phrase: Sequence[str]) -> tuple[bool, bool]:
    """Whether ``phrase`` (canonical tokens) occurs in the clause ``tokens``, and if it does,
    whether it is negated.

    The phrase's content words (non-filler) must all appear inside a window a little longer
    than the phrase, in any order; a negator earlier in the clause or inside the window that
    is not itself part of the phrase negates the finding. Short phrases of filler words only
    must appear verbatim.
    """
    if not phrase:
        return False, False
    content = [word for word in phrase if word not in FILLER] or list(phrase)
    span = len(phrase) + 3
    found_any = False
    for start, token in enumerate(tokens):
        if token != content[0]:
            continue
        # The content words in order, each within the window: "every night ... pc" is not
        # "every pc".
        last = start
        for word in content[1:]:
            try:
                last = tokens.index(word, last + 1, start + span)
            except ValueError:
                last = -1
                break
        if last < 0:
            continue
        found_any = True
        inside = tokens[start : last + 1]
        before = tokens[:start]
        phrase_words = set(phrase)
        negated = any(word in NEGATORS and word not in phrase_words for word in before) or any(
            word in NEGATORS and word not in phrase_words for word in inside
        )
        if not negated:
            return True, False
    return (True, True) if found_any else (False, False)


# --- shared evidence signals ----------------------------------------------------------------

_NUMBER = (
    r"(?:\d+|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|"
    r"several|multiple|a few|a couple of|some|many|most|half the|a handful of)"
)
_PEOPLE = (
    r"(?:users?|people|staff|colleagues|employees|machines|pcs|laptops|computers|devices|"
    r"mailboxes|accounts|workstations|desks|sites|offices|branches|members)"
)


@dataclass(frozen=True)
class Signal:
    name: str
    label: str  # how a reason names it: "everyone is affected"
    topic: str  # the fact label when no runbook item takes it: "Scope"
    pattern: re.Pattern[str]


def _signal(name: str, label: str, topic: str, pattern: str) -> Signal:
    return Signal(name=name, label=label, topic=topic, pattern=re.compile(pattern))


SIGNALS: tuple[Signal, ...] = (
    _signal(
        "scope:one",
        "only one user is affected",
        "Scope",
        r"\b(?:only|just) (?:her|him|me|them|this user|this one|one user|the one user|"
        r"the one person|this pc|this laptop|this machine|his|hers|[a-z]+'s (?:pc|laptop|machine|"
        r"account|mailbox))\b|\bnobody else\b|\bno one else\b|\beveryone else (?:is|seems) "
        r"(?:fine|ok|okay|working)\b|\bothers are fine\b|\bother users are fine\b|"
        r"\bsingle user\b|\bone user\b|\bjust the one\b|\bcolleagues are fine\b",
    ),
    _signal(
        "scope:everyone",
        "everyone is affected",
        "Scope",
        r"\b(?:everyone|everybody|whole (?:office|company|team|floor|site|building)|entire "
        r"(?:office|company|team|floor|site)|all of (?:them|us)|company-wide|nobody can|"
        r"nobody in|no one can|no one in|nobody on|nobody at|all (?:the )?(?:\d+ |[a-z]+ ){0,2}"
        + _PEOPLE
        + r"|all (?:remote|home|office) \w+)\b",
    ),
    _signal(
        "scope:several",
        "several users are affected",
        "Scope",
        r"\b" + _NUMBER + r" (?:of (?:the |our )?)?(?:[a-z]+ ){0,2}" + _PEOPLE + r"\b|"
        r"\bothers too\b|\bother users too\b|\bnot just (?:her|him|me|them|this user)\b|"
        r"\bmore than one\b|\bothers have it\b",
    ),
    _signal(
        "pattern:intermittent",
        "it comes and goes",
        "Pattern",
        r"\bevery (?:\d+|few|couple of|ten|five|fifteen|twenty|thirty|two|three) ?(?:minutes?|"
        r"mins?|hours?|seconds?|secs?|days?)\b|\bevery (?:minute|hour|half hour)\b|\bdrops?\b|"
        r"\bdropping\b|\bdropped\b|\bkeeps? (?:dropping|disconnecting|failing|freezing|"
        r"crashing|cutting out)\b|\bintermittent(?:ly)?\b|\bon and off\b|\bcomes and goes\b|"
        r"\brandom(?:ly)?\b|\bsometimes\b|\bnow and (?:then|again)\b|\bfrom time to time\b|"
        r"\b\d+ times a (?:day|week|hour)\b|\boccasionally\b|\bflaky\b|\bcuts? out\b",
    ),
    _signal(
        "pattern:down",
        "it fails every time",
        "Pattern",
        r"\b(?:completely|totally|at all|every single time|every time|always fails|"
        r"hard down|100% down|fully down|dead|nothing works|won't .{0,20} at all)\b",
    ),
    _signal(
        "pattern:slow",
        "it is slow rather than down",
        "Pattern",
        r"\b(?:slow|slowly|sluggish|takes ages|takes forever|laggy|lagging|crawl(?:ing)?)\b",
    ),
    _signal(
        "change:password",
        "the password changed recently",
        "Recent change",
        r"\bpassword (?:change|changed|reset|expired|was reset|was changed)\b|\b(?:changed|reset)"
        r" (?:her|his|their|my|the|our) password\b|\bnew password\b",
    ),
    _signal(
        "change:firmware",
        "it started after a firmware update",
        "Recent change",
        r"\bfirmware\b",
    ),
    _signal(
        "change:update",
        "it started after an update",
        "Recent change",
        r"\b(?:since|after|following) (?:the |a |an |last night's |yesterday's |this morning's "
        r"|last week's |monday's |tuesday's |the latest |the recent )?(?:windows |office |"
        r"patch |feature |security |cumulative |monthly |client |driver |teams |outlook )?"
        r"(?:update|updates|patch|patches|patching|upgrade)\b|\bpatch tuesday\b|\bkb\d{6,7}\b|"
        r"\bupdated (?:last night|yesterday|this morning|over the weekend)\b",
    ),
    _signal(
        "change:hardware",
        "it started after a hardware change",
        "Recent change",
        r"\b(?:new|replaced|swapped|replacement) (?:laptop|pc|dock|docking station|monitor|"
        r"printer|router|switch|access point|firewall|hardware|machine|nic|cable)\b",
    ),
    _signal(
        "change:none",
        "nothing changed recently",
        "Recent change",
        r"\bnothing (?:has )?changed\b|\bno (?:recent )?changes?\b",
    ),
    _signal(
        "env:home",
        "it happens away from the office",
        "Where",
        r"\b(?:from home|at home|home users?|home office|home network|home wifi|home broadband|"
        r"working remotely|remote (?:staff|users?|workers?|employees)|remotely|hotel)\b",
    ),
    _signal(
        "env:office",
        "it happens in the office",
        "Where",
        r"\b(?:in the office|at the office|on site|onsite|office network|on the lan|in office)\b",
    ),
    _signal(
        "env:hotspot",
        "it was tried on a phone hotspot",
        "Where",
        r"\b(?:hotspot|tethered|tethering|4g|5g|mobile data)\b",
    ),
)
SIGNAL_NAMES = frozenset(signal.name for signal in SIGNALS)
SIGNALS_BY_NAME = {signal.name: signal for signal in SIGNALS}
# "only her" also reads as one user; a wider scope in the same clause wins over "several".
_SCOPE_ORDER = ("scope:one", "scope:everyone", "scope:several")


@dataclass(frozen=True)
class SignalHit:
    name: str
    clause: str


def clause_signals(clause: str) -> list[SignalHit]:
    """The shared signals a clause asserts (negated mentions are skipped)."""
    return list(_clause_signals(clause))


@functools.lru_cache(maxsize=4096)
def _clause_signals(clause: str) -> tuple[SignalHit, ...]:
    text = normalize(clause)
    text = re.sub(r"\bno-one\b", "no one", text)
    hits: list[SignalHit] = []
    for signal in SIGNALS:
        for match in signal.pattern.finditer(text):
            before = text[: match.start()].split()
            # "nobody can" carries its own negator; "not just her" widens the scope.
            own = match.group(0).split()[0]
            if signal.name == "scope:one" and before[-1:] == ["not"]:
                continue
            # Where it was tried holds even when it failed there ("not on the hotspot either").
            if (
                own not in NEGATORS
                and not signal.name.startswith(("env:", "scope:everyone", "scope:several"))
                and any(word in NEGATORS for word in before[-3:])
            ):
                continue
            hits.append(SignalHit(name=signal.name, clause=clause))
            break
    names = {hit.name for hit in hits}
    if "scope:one" in names and names & {"scope:everyone", "scope:several"}:
        # "everyone else is fine" is one user; "all 12 users, only her laptop works" is not.
        keep = "scope:one" if re.search(r"\beveryone else\b|\bnobody else\b", text) else None
        hits = [
            hit
            for hit in hits
            if not hit.name.startswith("scope:") or keep is None or hit.name == keep
        ]
        if keep is None:
            hits = [hit for hit in hits if hit.name != "scope:one"]
    if "scope:everyone" in names and "scope:several" in names:
        hits = [hit for hit in hits if hit.name != "scope:several"]
    return tuple(hits)


# --- intents --------------------------------------------------------------------------------

_YES_RE = re.compile(
    r"^(?:yes|yep|yeah|yup|correct|confirmed|affirmative|that's right|it does|it is|they do)\b"
)
_NO_RE = re.compile(r"^(?:no|nope|nah|negative|it doesn't|it does not|it isn't|they don't)\b")
_FIX_REQUEST_RE = re.compile(
    r"\b(?:fix|fixes|solution|what now|what next|what's next|whats next|next steps?|"
    r"what should i do|what do i do|what do you suggest|how do i (?:solve|fix)|suggest|"
    r"any ideas|now what|where do we go from here|what would you do|what do you think|"
    r"your thoughts|thoughts\?|what's the fix|what is the fix|how do we fix)\b"
)
_CHECK_REQUEST_RE = re.compile(
    r"\b(?:what else (?:should|can|could) i (?:check|look at|try|run)|what (?:should|can) i "
    r"(?:check|look at|run)|anything else to (?:check|look at|run)|what other checks|"
    r"which checks?|what to check|more checks|what else is there|what else)\b"
)
_BROKEN_AGAIN_RE = re.compile(
    r"\b(?:broken again|back again|it's back|its back|came back|come back|happening again|"
    r"started again|failing again|stopped working again|same problem again|same issue again|"
    r"recurr(?:ed|ing)|returned|it's doing it again|doing it again|again today)\b"
)
PARTIAL_PHRASES = (
    "partially",
    "partly",
    "half working",
    "mostly working",
    "mostly works",
    "better but",
    "improved but",
    "works now but",
    "working now but",
    "some of it",
    "helped a bit",
    "helped but",
    "only for some",
    "some users still",
    "for some users",
)
FAILED_PHRASES = (
    "didn't work",
    "did not work",
    "didnt work",
    "doesn't work",
    "does not work",
    "not working",
    "still failing",
    "still fails",
    "still broken",
    "still the same",
    "still not",
    "still getting",
    "still having",
    "still can't",
    "still cannot",
    "still doesn't",
    "still drops",
    "still slow",
    "still stuck",
    "still freezing",
    "still freezes",
    "still hangs",
    "still hanging",
    "still crashing",
    "still locked",
    "still locks",
    "still asking",
    "still prompting",
    "still no",
    "still black",
    "still dropping",
    "same error",
    "same problem",
    "same issue",
    "no luck",
    "no change",
    "no difference",
    "didn't help",
    "did not help",
    "didn't fix",
    "did not fix",
    "not fixed",
    "made no difference",
    "it failed",
    "script failed",
    "nothing changed",
    "no joy",
    "no improvement",
)
SUCCESS_PHRASES = (
    "worked",
    "it works",
    "works now",
    "working now",
    "fixed",
    "resolved",
    "that did it",
    "sorted",
    "all good",
    "back to normal",
    "solved",
    "is working",
    "works fine now",
    "prints again",
    "printing again",
    "connects now",
    "connected now",
    "syncing again",
    "happy now",
)


def _alternation(phrases: tuple[str, ...]) -> re.Pattern[str]:
    body = "|".join(re.escape(phrase) for phrase in sorted(phrases, key=len, reverse=True))
    return re.compile(r"(?<![a-z0-9])(?:" + body + r")(?![a-z0-9])")


_PARTIAL_RE = _alternation(PARTIAL_PHRASES)
_FAILED_RE = _alternation(FAILED_PHRASES)
_SUCCESS_RE = _alternation(SUCCESS_PHRASES)


@functools.lru_cache(maxsize=4096)
def is_yes(text: str) -> bool:
    return bool(_YES_RE.match(normalize(text)))


@functools.lru_cache(maxsize=4096)
def asks_for_fix(text: str) -> bool:
    return bool(_FIX_REQUEST_RE.search(normalize(text)))


@functools.lru_cache(maxsize=4096)
def asks_for_checks(text: str) -> bool:
    return bool(_CHECK_REQUEST_RE.search(normalize(text)))


@functools.lru_cache(maxsize=4096)
def says_broken_again(text: str) -> bool:
    return bool(_BROKEN_AGAIN_RE.search(normalize(text)))


def _unnegated_match(pattern: re.Pattern[str], text: str) -> bool:
    for match in pattern.finditer(text):
        clause = re.split(r"[.,;:!?\n()]", text[: match.start()])[-1]
        if not any(word in NEGATORS for word in clause.split()[-3:]):
            return True
    return False


def _unnegated(text: str, phrase: str) -> bool:
    return _unnegated_match(
        re.compile(r"(?<![a-z0-9])" + re.escape(phrase) + r"(?![a-z0-9])"), text
    )


@functools.lru_cache(maxsize=4096)
def outcome_of(text: str) -> str | None:
    """The fix outcome a message reports, if any: partial, failed or success."""
    latest = normalize(text)
    if _unnegated_match(_PARTIAL_RE, latest):
        return "applied_partial"
    if _FAILED_RE.search(latest):
        return "applied_failed"
    if _unnegated_match(_SUCCESS_RE, latest):
        return "applied_success"
    return None


def phrase_found(text: str, phrase: str) -> bool:
    """Whether normalised ``phrase`` occurs in normalised ``text`` as whole words, not negated
    by one of the three words before it in the same clause."""
    return _unnegated(text, phrase)
