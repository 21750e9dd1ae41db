"""The engine's guards as pure pieces (issue 15): Host parsing and checking, strict numbers,
the admission queue, the connection cap and the open-file limit."""

from __future__ import annotations

import asyncio
import resource
import subprocess
import sys

import pytest

from app.engine.admission import Admission
from app.engine.errors import EngineError
from app.engine.guards import Guards
from app.engine.memory import IdleTrim
from app.engine.middleware import LocalOnly, host_name
from app.engine.strict import ascii_int


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("localhost", "localhost"),
        ("LocalHost:8000", "localhost"),
        ("127.0.0.1:65535", "127.0.0.1"),
        ("[::1]:8000", "::1"),
        ("[::1]", "::1"),
        ("::1", None),  # IPv6 in a Host header needs brackets
        ("[::1", None),
        ("localhost:", None),
        ("localhost:8o", None),
        ("localhost:٣", None),
        ("localhost:123456", None),
        ("", None),
    ],
)
def test_host_name(header, name) -> None:
    assert host_name(header) == name


@pytest.mark.parametrize(
    ("bound", "allowed", "refused"),
    [
        ("127.0.0.1", ["localhost", "127.0.0.1:1", "[::1]:1", "127.1.2.3"],
         ["10.0.0.5", "evil.example", "[fe80::1]:1"]),
        ("10.0.0.5", ["10.0.0.5:8000", "localhost"], ["10.0.0.6", "evil.example"]),
        ("myhost.lan", ["myhost.lan:8000", "127.0.0.1"], ["evil.example", "10.0.0.6"]),
        ("0.0.0.0", ["10.0.0.6:8000", "[fe80::1]:1", "localhost"], ["evil.example:8000"]),
        ("::", ["192.168.1.2", "[::1]:8000"], ["rebind.example"]),
    ],
)  # fmt: skip
def test_local_only_allows_loopback_the_bound_address_and_ips_when_bound_everywhere(
    bound, allowed, refused
) -> None:
    guard = LocalOnly(app=None, bound_host=bound)
    assert all(guard.allows(host) for host in allowed)
    assert not any(guard.allows(host) for host in refused)


@pytest.mark.parametrize(
    ("text", "value"),
    [("0", 0), (" 12\t", 12), ("-3", -3), ("+3", 3), ("٣", None), ("²", None), ("1_0", None),
     ("１", None), ("", None), ("1" * 19, None), ("3.0", None), ("0x10", None)],
)  # fmt: skip
def test_ascii_int_reads_plain_digits_only(text, value) -> None:
    assert ascii_int(text) == value


def test_ascii_int_unsigned_takes_no_sign() -> None:
    assert ascii_int("+3", signed=False) is None and ascii_int("7", signed=False) == 7


async def test_admission_runs_a_few_queues_the_rest_in_order_and_refuses_past_the_queue():
    idle_calls = []
    admission = Admission(slots=1, queue=2, budget=100, on_idle=lambda: idle_calls.append(1))
    first = await admission.enter(10)
    order: list[str] = []

    async def wait(name: str) -> None:
        started = await admission.enter(10)
        order.append(name)
        admission.leave(10, started)

    waiters = [asyncio.create_task(wait("b")), asyncio.create_task(wait("c"))]
    await asyncio.sleep(0)
    assert (admission.stats.active, admission.stats.queued) == (1, 2)
    with pytest.raises(EngineError) as refused:
        await admission.enter(10)
    assert refused.value.status == 429 and refused.value.retry_after >= 1
    admission.leave(10, first)
    await asyncio.gather(*waiters)
    assert order == ["b", "c"] and admission.stats.active == 0 and idle_calls == [1]


async def test_admission_keeps_to_the_byte_budget_but_always_lets_one_edit_in():
    admission = Admission(slots=4, queue=4, budget=100)
    huge = await admission.enter(500)  # over the budget alone: admitted when nothing runs
    waiting = asyncio.create_task(admission.enter(10))
    await asyncio.sleep(0)
    assert admission.stats.queued == 1  # 500 + 10 is over the budget
    admission.leave(500, huge)
    admission.leave(10, await waiting)
    assert admission.stats.inflight_bytes == 0


async def test_a_waiter_that_is_cancelled_leaves_the_queue_and_lets_the_next_in():
    admission = Admission(slots=1, queue=4, budget=100)
    first = await admission.enter(1)
    gone = asyncio.create_task(admission.enter(1))
    next_one = asyncio.create_task(admission.enter(1))
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.sleep(0)
    admission.leave(1, first)
    admission.leave(1, await next_one)
    assert (admission.stats.active, admission.stats.queued) == (0, 0)


async def test_memory_is_trimmed_once_after_the_work_ends_never_while_it_goes_on():
    busy = [True]
    trim = IdleTrim(busy=lambda: busy[0])
    trim.soon()
    await asyncio.sleep(0.7)
    assert trim.count == 0  # more work had started meanwhile
    busy[0] = False
    trim.soon()
    trim.soon()  # a burst's last edits: one trim, after them
    await asyncio.sleep(0.7)
    assert trim.count == 1


def test_the_connection_cap_stays_below_the_open_file_limit() -> None:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    cap = Guards(max_connections=10**6).connection_cap(work=2)
    assert cap < soft or soft == resource.RLIM_INFINITY
    assert Guards(max_connections=50).connection_cap(work=2) == min(50, cap)


def test_the_soft_open_file_limit_is_raised_to_the_hard_one() -> None:
    code = (
        "import resource\n"
        "from app.engine.guards import raise_open_file_limit\n"
        "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (min(256, hard), hard))\n"
        "print(raise_open_file_limit(), resource.getrlimit(resource.RLIMIT_NOFILE)[0], hard)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    reported, soft, hard = out.stdout.split()
    assert reported == soft and (soft == hard or hard == str(resource.RLIM_INFINITY))
