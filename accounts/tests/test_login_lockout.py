"""Sign-in lock-outs that do not lock out the victim: failures count per (address, client IP);
across IPs only a higher threshold slows down the IPs that failed."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def attempt(email: str, password: str, ip: str) -> Any:
    return Client(REMOTE_ADDR=ip).post(
        "/api/v1/auth/login/json",
        {"email": email, "password": password},
        content_type="application/json",
    )


def test_failures_from_elsewhere_never_lock_out_the_owner(engineer: User, settings: Any) -> None:
    """Fifty failures from an attacker's addresses: the engineer still signs in from theirs."""
    settings.LOGIN_FAILURES_PER_PAIR = 5
    settings.LOGIN_FAILURES_PER_EMAIL = 20
    for n in range(50):
        response = attempt(engineer.email, "guess", f"203.0.113.{n % 10}")
        assert response.status_code in (401, 429)
    assert attempt(engineer.email, PASSWORD, "198.51.100.7").status_code == 200


def test_the_failing_pair_is_locked(engineer: User, settings: Any) -> None:
    settings.LOGIN_FAILURES_PER_PAIR = 3
    for _ in range(3):
        assert attempt(engineer.email, "guess", "203.0.113.1").status_code == 401
    locked = attempt(engineer.email, PASSWORD, "203.0.113.1")
    assert locked.status_code == 429
    assert locked.json()["code"] == "too_many_attempts"
    assert locked.json()["retry_after"] == settings.LOGIN_FAILURE_WINDOW_SECONDS
    # The same address from another IP, and another address from the locked IP, still work.
    assert attempt(engineer.email, PASSWORD, "203.0.113.2").status_code == 200


def test_past_the_address_threshold_failing_ips_wait_a_doubling_delay(
    engineer: User, settings: Any
) -> None:
    settings.LOGIN_FAILURES_PER_PAIR = 100
    settings.LOGIN_FAILURES_PER_EMAIL = 4
    for n in range(4):
        assert attempt(engineer.email, "guess", f"203.0.113.{n}").status_code == 401
    # The fourth failure crossed the threshold: the IPs that failed must wait…
    cooling = attempt(engineer.email, "guess", "203.0.113.0")
    assert cooling.status_code == 429
    first_wait = cooling.json()["retry_after"]
    # …a fresh IP is still let through to the password check (and its failure doubles it).
    assert attempt(engineer.email, "guess", "203.0.113.50").status_code == 401
    longer = attempt(engineer.email, "guess", "203.0.113.1")
    assert longer.status_code == 429
    assert longer.json()["retry_after"] > first_wait
    # A correct password from an IP that never failed is never refused.
    assert attempt(engineer.email, PASSWORD, "198.51.100.9").status_code == 200


def test_spraying_many_addresses_from_one_ip_is_throttled(engineer: User, settings: Any) -> None:
    settings.LOGIN_FAILURES_PER_IP = 5
    for n in range(5):
        assert attempt(f"user{n}@example.com", "guess", "203.0.113.9").status_code == 401
    assert attempt(engineer.email, PASSWORD, "203.0.113.9").status_code == 429
    assert attempt(engineer.email, PASSWORD, "203.0.113.10").status_code == 200


def test_success_forgives_only_the_own_pair(engineer: User, settings: Any) -> None:
    settings.LOGIN_FAILURES_PER_PAIR = 3
    for _ in range(2):
        attempt(engineer.email, "typo", "198.51.100.1")
    assert attempt(engineer.email, PASSWORD, "198.51.100.1").status_code == 200
    for _ in range(2):
        assert attempt(engineer.email, "typo", "198.51.100.1").status_code == 401
    assert attempt(engineer.email, PASSWORD, "198.51.100.1").status_code == 200
