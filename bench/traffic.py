"""Send steady HTTP traffic to the app until told to stop, then write what happened as JSON.

Used by the molecule side_effect (upgrade and rollback under traffic), by ``bench/run.py`` and by
the deploy tests (``tests/deploy/conftest.py``: ``Traffic``): one traffic generator for all three.
Requests go out on a fixed schedule (``--rate`` per second, alternating over ``--path``), each
on a new connection, so a pod that stops accepting connections during a rollout is counted
instead of being hidden behind a kept-alive socket. A request fails when it raises, times out or
answers with a status outside 2xx.

    python bench/traffic.py --base-url http://127.0.0.1:30000 --path /api/ready \
        --path /api/tasks --cookie-file cookie --stop-file stop --out result.json

Traffic stops when the stop file appears (or after ``--max-seconds``); in-flight requests are
allowed to finish before the result is written.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

MAX_FAILURE_SAMPLES = 50


@dataclass
class Tally:
    """What the traffic saw, shared between the worker threads."""

    started: float
    sent: int = 0
    ok: int = 0
    failed: int = 0
    by_path: dict[str, dict[str, int]] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, path: str, error: str | None, latency_ms: float) -> None:
        with self.lock:
            counts = self.by_path.setdefault(path, {"sent": 0, "failed": 0})
            counts["sent"] += 1
            if error is None:
                self.ok += 1
                self.latencies_ms.append(latency_ms)
            else:
                self.failed += 1
                counts["failed"] += 1
                if len(self.failures) < MAX_FAILURE_SAMPLES:
                    at = round(time.monotonic() - self.started, 2)
                    self.failures.append({"at_s": at, "path": path, "error": error})


def percentile(values: list[float], fraction: float) -> float | None:
    """The value below which ``fraction`` of ``values`` lie (nearest rank), or None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered)) - 1))
    return round(ordered[rank], 1)


def request(base: str, path: str, headers: dict[str, str], timeout: float) -> str | None:
    """Send one GET; return None when it answered 2xx, else a short description of the failure."""
    parts = urlsplit(base)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        connection.request("GET", parts.path.rstrip("/") + path, headers=headers)
        response = connection.getresponse()
        response.read()
        if 200 <= response.status < 300:
            return None
        return f"HTTP {response.status}"
    except (OSError, http.client.HTTPException) as error:
        return f"{type(error).__name__}: {error}"
    finally:
        connection.close()


def summary(tally: Tally, rate: float, elapsed: float) -> dict[str, Any]:
    return {
        "rate_per_s": rate,
        "duration_s": round(elapsed, 2),
        "sent": tally.sent,
        "ok": tally.ok,
        "failed": tally.failed,
        "by_path": tally.by_path,
        "latency_ms": {
            "p50": percentile(tally.latencies_ms, 0.50),
            "p99": percentile(tally.latencies_ms, 0.99),
            "max": round(max(tally.latencies_ms), 1) if tally.latencies_ms else None,
            "mean": round(statistics.fmean(tally.latencies_ms), 1) if tally.latencies_ms else None,
        },
        "failures": tally.failures,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    headers = {"Connection": "close", "User-Agent": "todo-app-traffic"}
    if args.cookie_file:
        headers["Cookie"] = Path(args.cookie_file).read_text(encoding="utf-8").strip()
    stop_file = Path(args.stop_file) if args.stop_file else None
    tally = Tally(started=time.monotonic())
    interval = 1.0 / args.rate
    deadline = tally.started + args.max_seconds
    if args.ready_file:
        Path(args.ready_file).write_text(str(os.getpid()), encoding="utf-8")
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        tick = 0
        while True:
            now = time.monotonic()
            if now >= deadline or (stop_file is not None and stop_file.exists()):
                break
            due = tally.started + tick * interval
            if due > now:
                time.sleep(min(due - now, 0.05))
                continue
            path = args.path[tick % len(args.path)]
            with tally.lock:
                tally.sent += 1
            pool.submit(send, tally, args.base_url, path, headers, args.timeout)
            tick += 1
    return summary(tally, args.rate, time.monotonic() - tally.started)


def send(tally: Tally, base: str, path: str, headers: dict[str, str], timeout: float) -> None:
    started = time.monotonic()
    error = request(base, path, headers, timeout)
    tally.record(path, error, (time.monotonic() - started) * 1000)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-url", default="http://127.0.0.1:30000")
    parser.add_argument("--path", action="append", help="path to GET; repeat to alternate")
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds one request may take")
    parser.add_argument("--cookie-file", help="file holding the Cookie header (off the command line)")
    parser.add_argument("--stop-file", help="stop when this file exists")
    parser.add_argument("--ready-file", help="written once the traffic starts")
    parser.add_argument("--max-seconds", type=float, default=1800.0, help="stop after this long regardless")
    parser.add_argument("--workers", type=int, default=64, help="concurrent requests at most")
    parser.add_argument("--out", required=True, help="where to write the JSON result")
    args = parser.parse_args(argv)
    args.path = args.path or ["/api/ready"]
    if args.rate <= 0:
        parser.error("--rate must be positive")
    return args


def main(argv: list[str]) -> int:
    args = parse(argv)
    result = run(args)
    out = Path(args.out)
    partial = out.with_suffix(out.suffix + ".partial")
    partial.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    partial.replace(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
