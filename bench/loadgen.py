"""A bounded load generator for the benchmarks: many threads POSTing JSON to one endpoint on loopback.

Each thread keeps one HTTP connection and takes jobs from a shared queue until the queue is empty or
the time limit passes; latencies and status counts are collected and summarised as percentiles.
"""

from __future__ import annotations

import http.client
import json
import queue
import statistics
import threading
import time
from typing import Any

Job = tuple[dict[str, str], dict[str, Any]]  # (headers, JSON body)


def post_concurrently(
    *, port: int, path: str, jobs: list[Job], clients: int, time_limit: float, rate_label: str = "requests/s",
    rate: float | None = None,
) -> dict[str, Any]:
    """Send ``jobs`` from ``clients`` threads: back to back (closed loop, the default: the figure is the
    server's capacity, and latency is mostly waiting in line), or, with ``rate``, at that many requests
    per second on a fixed schedule (open loop: job k is due at k/rate s). In the open loop a latency is
    counted from when the request was due, not when a free client got to send it, so a server that
    falls behind shows it (no "coordinated omission")."""
    work: queue.Queue[tuple[float | None, Job]] = queue.Queue()
    for k, job in enumerate(jobs):
        work.put((k / rate if rate else None, job))
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    lock = threading.Lock()
    stop_at = time.monotonic() + time_limit

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.monotonic() < stop_at:
            try:
                due, (headers, body) = work.get_nowait()
            except queue.Empty:
                break
            if due is not None:
                wait = t0 + due - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
            started = time.perf_counter() if due is None else t0 + due
            try:
                conn.request(
                    "POST", path, body=json.dumps(body), headers={"Content-Type": "application/json", **headers}
                )
                response = conn.getresponse()
                response.read()
                key = str(response.status)
            except (OSError, http.client.HTTPException) as exc:
                key = type(exc).__name__
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses[key] = statuses.get(key, 0) + 1
        conn.close()

    started = t0 = time.perf_counter()
    pool = [threading.Thread(target=client) for _ in range(clients)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - started
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000 if ordered else 0.0

    ok = sum(v for k, v in statuses.items() if k in ("200", "201"))
    return {
        **({"offered /s": rate} if rate else {}),
        "requests": len(latencies),
        "ok": ok,
        "errors": len(latencies) - ok,
        "statuses": statuses,
        "wall s": round(wall, 2),
        rate_label: round(ok / wall, 1) if wall else 0.0,
        "p50 ms": round(pct(50), 1),
        "p95 ms": round(pct(95), 1),
        "p99 ms": round(pct(99), 1),
        "max ms": round(ordered[-1] * 1000, 1) if ordered else 0.0,
        "mean ms": round(statistics.fmean(ordered) * 1000, 1) if ordered else 0.0,
        "not sent (time limit)": work.qsize(),
    }
