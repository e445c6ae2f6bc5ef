"""Throughput of the authenticated task list beside /healthz, on one CPU (issue 15 item 5).

    uv run --frozen python scripts/loadtest.py [--runs 3] [--seconds 10] [--connections 16]

Starts a throwaway PostgreSQL 15 (PG_BIN, as user `postgres` when run by root) on 127.0.0.1
and a free port, migrates it, and runs the backend as the image does (the Dockerfile's CMD:
one uvicorn worker, no access log, no proxy headers) pinned to CPU_SERVER with `taskset`,
with the chart's production settings. It registers a user, logs in, and alternates `wrk`
runs against /healthz and GET /api/tasks (that user's empty list) RUNS times, then prints
the medians of req/s, p50, p99, the server's CPU time per request and the connections
PostgreSQL accepted during each run. Traffic goes to 127.0.0.1 only; the server and wrk run
under `nice`, so a shared machine keeps its other work.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

BACKEND = Path(__file__).resolve().parent.parent
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
CPU_SERVER = os.environ.get("CPU_SERVER", "1")
CPU_CLIENT = os.environ.get("CPU_CLIENT", "0")
NICE = ["nice", "-n", "10"]
ENDPOINTS = {"healthz": "/healthz", "list_tasks": "/api/tasks"}
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def as_pg_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.getuid() == 0 else cmd


def start_postgres(state: Path) -> tuple[str, Path]:
    data = state / "pgdata"
    if os.getuid() == 0:
        shutil.chown(state, "postgres")
    initdb = [str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
    subprocess.run(
        as_pg_user([*initdb, "-E", "UTF8", "--no-instructions"]),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    port = free_port()
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {state}"
    pg_ctl = [str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(state / "pg.log")]
    # The database runs beside wrk, as it runs in its own pod: the server's CPU is its own.
    subprocess.run(
        ["taskset", "-c", CPU_CLIENT, *as_pg_user([*pg_ctl, "-w", "-o", options, "start"])],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return f"postgresql://postgres@127.0.0.1:{port}/postgres", data


def request(base: str, path: str, body: dict[str, Any]) -> Any:
    req = urllib.request.Request(
        base + path, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.load(resp)


def wait_up(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the backend exited with {server.returncode} before serving")
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    sys.exit("the backend did not answer /healthz within 30 s")


def to_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * _UNIT_MS[unit]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sessions_opened(database_url: str) -> int:
    """Connections PostgreSQL has accepted into the database so far."""
    query = "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
    out = subprocess.run(
        [str(PG_BIN / "psql"), database_url, "-Atc", query],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(out.stdout)


def wrk(url: str, token: str, seconds: int, connections: int) -> dict[str, float]:
    load = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    out = subprocess.run(
        ["taskset", "-c", CPU_CLIENT, *NICE, *load, "-H", f"Authorization: Bearer {token}", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    broken = errors is not None and any(int(n) for n in errors.groups()[:3])
    if "Non-2xx" in out or broken:
        sys.exit(f"wrk saw failures against {url}:\n{out}")
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.MULTILINE))
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.MULTILINE)
    assert rps is not None, out
    requests = re.search(r"^\s+(\d+) requests in", out, re.MULTILINE)
    assert requests is not None, out
    return {
        "requests": float(requests.group(1)),
        "rps": float(rps.group(1)),
        "p50_ms": to_ms(percentiles["50"]),
        "p99_ms": to_ms(percentiles["99"]),
        # Requests still unanswered after wrk's 2 s timeout: past any p99 worth the name.
        "timeouts": float(errors.group(4)) if errors else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="todo-loadtest-") as tmp:
        state = Path(tmp)
        database_url, pg_data = start_postgres(state)
        server: subprocess.Popen[bytes] | None = None
        try:
            env = {
                **os.environ,
                "DATABASE_URL": database_url,
                "JWT_SECRET": secrets.token_hex(32),
                "ENVIRONMENT": "production",
                "TRUSTED_PROXIES": "10.244.0.0/16",
                "LOG_LEVEL": "INFO",
            }
            subprocess.run(
                [sys.executable, "-m", "app.migrate"],
                cwd=BACKEND,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            # The Dockerfile's CMD, on loopback.
            uvicorn = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1"]
            options = ["--no-access-log", "--no-proxy-headers", "--timeout-graceful-shutdown"]
            server = subprocess.Popen(
                ["taskset", "-c", CPU_SERVER, *NICE, *uvicorn, "--port", str(port), *options, "20"],
                cwd=BACKEND,
                env=env,
                stdout=subprocess.DEVNULL,
            )
            wait_up(base, server)
            account = {"email": "load@example.com", "password": secrets.token_hex(12)}
            request(base, "/api/auth/register", account)
            token = request(base, "/api/auth/login", account)["access_token"]

            results: dict[str, list[dict[str, float]]] = {name: [] for name in ENDPOINTS}
            for run in range(args.runs):
                for name, path in ENDPOINTS.items():
                    cpu, sessions = cpu_seconds(server.pid), sessions_opened(database_url)
                    figures = wrk(base + path, token, args.seconds, args.connections)
                    requests = figures.pop("requests")
                    figures["server_cpu_ms_per_request"] = round(
                        (cpu_seconds(server.pid) - cpu) * 1000 / requests, 3
                    )
                    # Less the one psql opened to read the count before the run.
                    figures["db_sessions_opened"] = sessions_opened(database_url) - sessions - 1
                    results[name].append(figures)
                    sys.stdout.write(f"run {run + 1} {name}: {figures}\n")
                    sys.stdout.flush()
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=30)
            subprocess.run(
                as_pg_user([str(PG_BIN / "pg_ctl"), "-D", str(pg_data), "stop", "-m", "fast"]),
                check=False,
                stdout=subprocess.DEVNULL,
            )

    medians = {
        name: {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        for name, runs in results.items()
    }
    ratio = medians["list_tasks"]["rps"] / medians["healthz"]["rps"]
    summary = {"medians": medians, "list_over_healthz": round(ratio, 3)}
    sys.stdout.write(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
