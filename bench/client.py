"""Load client for the benchmarks.

    python -m bench.client URL REQUESTS CONCURRENCY [METHOD [BODY [COOKIE]]]

BODY may hold alternatives separated by "|", sent in turn.
Prints requests/s, P50 and P95 latency in milliseconds, and the count of answers that were
not 200 or 303 (a POST answered by a redirect is a success) or did not come within 60 s.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time

import httpx2


async def run(
    url: str, requests: int, concurrency: int, method: str, body: str, cookie: str
) -> None:
    latencies: list[float] = []
    errors = 0
    remaining = requests
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
    bodies = body.split("|") if body else [""]  # alternatives, cycled request by request
    sent = 0
    if cookie:
        headers["Cookie"] = cookie

    async def worker(client: httpx2.AsyncClient) -> None:
        nonlocal remaining, errors, sent
        while remaining > 0:
            remaining -= 1
            content = bodies[sent % len(bodies)] or None
            sent += 1
            started = time.perf_counter()
            try:
                response = await client.request(method, url, content=content, headers=headers)
            except httpx2.HTTPError:  # a timeout on a loaded machine counts, and the run goes on
                errors += 1
                continue
            latencies.append((time.perf_counter() - started) * 1000)
            errors += response.status_code not in (200, 303)

    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx2.AsyncClient(limits=limits, timeout=60) as client:
        await client.request(method, url, content=bodies[0] or None, headers=headers)  # warm up
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    quantiles = statistics.quantiles(latencies, n=100)
    print(f"{requests / elapsed:.1f} {quantiles[49]:.2f} {quantiles[94]:.2f} {errors}")


if __name__ == "__main__":
    args = sys.argv[1:] + [""] * (6 - len(sys.argv[1:]))
    asyncio.run(run(args[0], int(args[1]), int(args[2]), args[3] or "GET", args[4], args[5]))
