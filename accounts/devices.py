"""Readable device names from user agents, through ua-parser (its regexes are kept current)."""

from __future__ import annotations

from functools import lru_cache

import ua_parser

GENERIC_FAMILIES = frozenset({"Other", ""})


@lru_cache(maxsize=512)
def describe_user_agent(user_agent: str) -> str:
    """ "Chrome 131 on Windows 10", "Python Requests 2.31", or "Unknown device"."""
    if not user_agent:
        return "Unknown device"
    result = ua_parser.parse(user_agent)
    browser = ""
    if result.user_agent is not None and result.user_agent.family not in GENERIC_FAMILIES:
        browser = result.user_agent.family
        if result.user_agent.major:
            browser = f"{browser} {result.user_agent.major}"
    system = ""
    if result.os is not None and result.os.family not in GENERIC_FAMILIES:
        system = result.os.family
        if result.os.major:
            system = f"{system} {result.os.major}"
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or user_agent[:60]
