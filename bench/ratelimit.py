"""The cost of one rate-limit check in one process, by the number of people counted.

    .venv/bin/python -m bench.ratelimit [--checks 5000] [--people 1 1000 20000]

Each request passes three to four checks (every request, unsafe requests, the route's
budget per address and per account). With no Redis the counters are kept in the web
process: this measures, side by side in one run, `limits`' asynchronous memory storage
(what the product used) and the product's own moving windows, after the counters of
`people` different people have been filled, as a server does between requests (the event
loop turns after each check, so background sweeps run). The figure is the process's CPU time
per check, its threads included, beside the wall time. The target: a check costs the same
whatever the number of people, and a small part of a request's few milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable

from limits import parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from consult.web.ratelimit import MemoryWindows

BUDGET = parse("60/minute")
Hit = Callable[[str], Awaitable[bool]]


def limits_memory() -> Hit:
    limiter = MovingWindowRateLimiter(MemoryStorage())
    return lambda person: limiter.hit(BUDGET, "vote", person)


def own_windows() -> Hit:
    windows = MemoryWindows()
    return lambda person: windows.hit(BUDGET, "vote", person)


async def measure(make: Callable[[], Hit], people: int, checks: int) -> tuple[float, float]:
    """Microseconds of CPU and of wall time per check, once `people` counters are held."""
    hit = make()
    for person in range(people):
        await hit(f"user:{person}")
        await asyncio.sleep(0)
    cpu, wall = time.process_time(), time.perf_counter()
    for check in range(checks):
        await hit(f"user:{check % 50}")  # the people active now
        await asyncio.sleep(0)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return cpu / checks * 1e6, wall / checks * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checks", type=int, default=5000)
    parser.add_argument("--people", type=int, nargs="+", default=[1, 1000, 20000])
    args = parser.parse_args()
    print(f"{'people counted':>15}{'storage':>26}{'CPU µs/check':>15}{'wall µs/check':>15}")
    for people in args.people:
        for name, make in (("limits' memory storage", limits_memory), ("own windows", own_windows)):
            cpu, wall = asyncio.run(measure(make, people, args.checks))
            print(f"{people:>15,}{name:>26}{cpu:>15,.1f}{wall:>15,.1f}")
    print("target: the same cost whatever the number of people, a few µs of a request's ms")


if __name__ == "__main__":
    main()
