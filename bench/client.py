"""Load client for the benchmarks: `python -m bench.client URL REQUESTS CONCURRENCY`.

Prints requests/s, P50 and P95 latency in milliseconds, and the count of non-200 answers.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time

import httpx2


async def run(url: str, requests: int, concurrency: int) -> None:
    latencies: list[float] = []
    errors = 0
    remaining = requests

    async def worker(client: httpx2.AsyncClient) -> None:
        nonlocal remaining, errors
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            response = await client.get(url)
            latencies.append((time.perf_counter() - started) * 1000)
            errors += response.status_code != 200

    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx2.AsyncClient(limits=limits) as client:
        await client.get(url)  # warm up
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    quantiles = statistics.quantiles(latencies, n=100)
    print(f"{requests / elapsed:.1f} {quantiles[49]:.2f} {quantiles[94]:.2f} {errors}")


if __name__ == "__main__":
    asyncio.run(run(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
