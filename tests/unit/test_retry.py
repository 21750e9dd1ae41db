"""The retry policy of PROTOCOL.md, decision by decision."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from app.client.retry import RetryPolicy

NOW = 1_800_000_000.0
EXACT = RetryPolicy(jitter=lambda: 1.0, clock=lambda: NOW)


def test_backoff_doubles_from_half_a_second_up_to_eight() -> None:
    assert [EXACT.backoff(k) for k in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert EXACT.backoff(10_000) == 8.0


def test_jitter_stays_in_three_quarters_to_one() -> None:
    policy = RetryPolicy()
    delays = [policy.backoff(1) for _ in range(2000)]
    assert all(0.75 < d <= 1.0 for d in delays)
    assert max(delays) - min(delays) > 0.1  # it does vary


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 599])
def test_these_statuses_are_retried(status: int) -> None:
    decision = EXACT.for_status(0, status, {})
    assert decision.retry and decision.delay == 0.5


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 422])
def test_other_statuses_are_not(status: int) -> None:
    assert not EXACT.for_status(0, status, {}).retry


def test_x_should_retry_overrides_the_status() -> None:
    assert EXACT.for_status(0, 400, {"x-should-retry": "true"}).retry
    assert not EXACT.for_status(0, 503, {"x-should-retry": "false"}).retry
    assert EXACT.for_status(0, 503, {"x-should-retry": "maybe"}).retry


def test_moderation_and_other_user_errors_are_never_retried() -> None:
    headers = {"x-should-retry": "true"}
    assert not EXACT.for_status(0, 500, headers, "image_generation_user_error").retry
    assert EXACT.for_status(0, 500, headers, "server_error").retry


def test_two_retries_by_default_then_none() -> None:
    assert EXACT.for_status(1, 503, {}).retry
    assert not EXACT.for_status(2, 503, {}).retry
    assert EXACT.for_network_error(1).retry
    assert not EXACT.for_network_error(2).retry
    assert not RetryPolicy(max_retries=0).for_network_error(0).retry


def test_network_errors_back_off() -> None:
    assert [EXACT.for_network_error(k).delay for k in range(2)] == [0.5, 1.0]


def test_retry_after_ms_comes_first() -> None:
    headers = {"retry-after-ms": "250", "retry-after": "7"}
    assert EXACT.for_status(0, 429, headers).delay == 0.25


def test_retry_after_in_seconds_and_as_an_http_date() -> None:
    assert EXACT.for_status(0, 429, {"retry-after": "7"}).delay == 7.0
    assert EXACT.for_status(0, 429, {"retry-after": "1.5"}).delay == 1.5
    when = format_datetime(datetime.fromtimestamp(NOW + 30, UTC), usegmt=True)
    assert EXACT.for_status(0, 503, {"retry-after": when}).delay == pytest.approx(30, abs=1)


def test_a_wait_of_zero_to_120_seconds_is_obeyed() -> None:
    assert EXACT.for_status(0, 429, {"retry-after": "0"}).delay == 0.0
    assert EXACT.for_status(0, 429, {"retry-after": "120"}).delay == 120.0


def test_a_wait_above_120_seconds_is_not_retried_and_says_why() -> None:
    decision = EXACT.for_status(0, 429, {"retry-after": "300"})
    assert not decision.retry
    assert "300 s" in decision.why_not and "try again later" in decision.why_not
    assert not EXACT.for_status(0, 429, {"retry-after-ms": "121000"}).retry


@pytest.mark.parametrize("value", ["soon", "-5", "", "nan", "inf", "Mon, 99 Foo 2020"])
def test_an_unreadable_or_negative_wait_falls_back_to_backoff(value: str) -> None:
    decision = EXACT.for_status(1, 429, {"retry-after": value})
    assert decision.retry and decision.delay == 1.0


def test_a_date_in_the_past_falls_back_to_backoff() -> None:
    when = format_datetime(datetime.fromtimestamp(NOW - 30, UTC), usegmt=True)
    assert EXACT.for_status(0, 503, {"retry-after": when}).delay == 0.5
