"""Run the todo-app test suite in stages and end with one line: ``N passed, N failed``.

``python tests/run_suite.py all`` runs every stage in order (what ``make test`` and CI
run); ``lint``, ``unit``, ``chart``, ``app``, ``cluster`` and ``molecule`` run one stage.
A step that writes a JUnit report counts each test case in it: pytest gets ``--junitxml``,
the app's test scripts (backend/scripts/test.sh, frontend/scripts/test.sh and e2e.sh) get
the report's path in ``JUNIT_REPORT``. A step that exits non-zero without failed test cases
in its report (or without a report) counts one failure; any other step counts as one check.
A failed step prints the end of its output, so the CI log explains the failure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / ".cache" / "test-reports"
TAIL_LINES = 80
JUNIT_REPORT_ENV = "JUNIT_REPORT"


@dataclass(frozen=True)
class Step:
    name: str
    command: list[str]
    # How the step learns where to write its JUnit report: pytest's `--junitxml=` argument,
    # or the JUNIT_REPORT environment variable. None: the step counts as one check.
    junit: Literal["argument", "env"] | None = None
    needs: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()


@dataclass
class Outcome:
    passed: int
    failed: int
    skipped: int = 0


def pytest_step(name: str, *args: str, needs: tuple[str, ...] = ()) -> Step:
    return Step(
        name=name,
        command=[sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        junit="argument",
        needs=needs,
    )


def existing(*paths: str) -> list[str]:
    return [path for path in paths if (ROOT / path).exists()]


def stages() -> dict[str, list[Step]]:
    python_paths = existing("plugins", "tests", "inventory/local/vault-client.py", "bench")
    dockerfiles = existing("backend/Dockerfile", "frontend/Dockerfile")
    lint = [
        Step("yamllint", ["yamllint", "--strict", "."]),
        Step("ansible-lint (production profile)", ["ansible-lint", "--profile", "production"]),
        Step("ruff check", ["ruff", "check", *python_paths]),
        Step("ruff format", ["ruff", "format", "--check", *python_paths]),
        Step("mypy", ["mypy", *[p for p in python_paths if p != "tests"], "tests/run_suite.py"]),
        *[
            Step(f"mypy {path}", ["mypy", path])
            for path in existing(
                "tests/unit", "tests/integration", "tests/chart", "tests/deploy", "tests/cluster"
            )
        ],
        Step(
            "ansible-doc of the custom modules",
            ["ansible-doc", "-M", "plugins/modules", "local_daemon", "iptables_chains_purge"],
        ),
    ]
    if dockerfiles:
        lint.append(Step("hadolint", ["hadolint", *dockerfiles]))
    if (ROOT / "helm/todo-app/Chart.yaml").exists():
        lint.append(
            Step(
                "helm lint",
                ["helm", "lint", "--strict", "helm/todo-app", "--set", "secrets.jwtSecret=" + "x" * 40],
            )
        )
    if (ROOT / "backend/scripts/lint.sh").exists():
        lint.append(Step("backend lint (ruff, mypy strict)", ["backend/scripts/lint.sh"]))
    app = [
        Step(name, [script], junit="env")
        for name, script in [
            ("backend tests (SQLite and PostgreSQL)", "backend/scripts/test.sh"),
            ("frontend lint, typecheck and unit tests", "frontend/scripts/test.sh"),
            ("frontend end to end (Chromium, real backend)", "frontend/scripts/e2e.sh"),
        ]
        if (ROOT / script).exists()
    ]
    if (ROOT / "tests/images").exists():
        app.append(pytest_step("images", "tests/images"))
    molecule = []
    if (ROOT / "molecule/default/molecule.yml").exists():
        molecule.append(Step("molecule test -s default", ["molecule", "test", "-s", "default"]))
    if (ROOT / "molecule/kind/molecule.yml").exists():
        # kind cannot pull its node image here; its scenario is only syntax-checked.
        molecule.append(Step("molecule syntax -s kind", ["molecule", "syntax", "-s", "kind"]))
    return {
        "lint": lint,
        "unit": [pytest_step("unit", "tests/unit", *existing("tests/deploy"), "-m", "not cluster")],
        "chart": [pytest_step("chart", "tests/chart")] if (ROOT / "tests/chart").exists() else [],
        "integration": [pytest_step("integration", "tests/integration")]
        if (ROOT / "tests/integration").exists()
        else [],
        "app": app,
        "cluster": [
            pytest_step("cluster", "tests/cluster"),
            *(
                [pytest_step("deployment", "tests/deploy", "-m", "cluster")]
                if (ROOT / "tests/deploy").exists()
                else []
            ),
        ],
        "molecule": molecule,
    }


def junit_counts(path: Path) -> Outcome | None:
    if not path.exists():
        return None
    try:
        root = ET.parse(path).getroot()  # noqa: S314 - our own test report
    except ET.ParseError:  # the writer died half-way
        return None
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    total = sum(int(s.get("tests", 0)) for s in suites)
    failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    return Outcome(passed=total - failed - skipped, failed=failed, skipped=skipped)


def run(step: Step) -> Outcome:
    command = list(step.command)
    env = dict(os.environ, **dict(step.env))
    report = REPORTS / (step.name.replace(" ", "-").replace("/", "-") + ".xml")
    if step.junit:
        report.unlink(missing_ok=True)
    if step.junit == "argument":
        command += [f"--junitxml={report}"]
    elif step.junit == "env":
        env[JUNIT_REPORT_ENV] = str(report)
    missing = [tool for tool in command[:1] if shutil.which(tool) is None and not (ROOT / tool).exists()]
    started = time.monotonic()
    print(f"\n=== {step.name}: {' '.join(command)}", flush=True)
    if missing:
        print(f"--- {step.name}: {missing[0]} is not installed; run `make venv` / `make toolchain`")
        return Outcome(passed=0, failed=1)
    with subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        assert process.stdout is not None
        lines: list[str] = []
        for line in process.stdout:
            sys.stdout.write(line)
            lines.append(line)
        rc = process.wait()
    elapsed = time.monotonic() - started
    counts = junit_counts(report) if step.junit else None
    failed = rc != 0
    status = "ok" if rc == 0 else f"FAILED (exit {rc})"
    if step.junit and counts is None and rc == 0:
        failed = True
        status = f"FAILED (exit 0 but no readable JUnit report at {report})"
    if counts is None:
        counts = Outcome(passed=int(not failed), failed=int(failed))
    elif failed and counts.failed == 0:
        counts.failed = 1  # failed outside its test cases (collection error, crash, lint)
    print(
        f"--- {step.name}: {status} in {elapsed:.0f}s ({counts.passed} passed, {counts.failed} failed, {counts.skipped} skipped)"
    )
    if failed:
        print(f"--- last {TAIL_LINES} lines of {step.name}:")
        sys.stdout.write("".join(lines[-TAIL_LINES:]))
    return counts


def main(argv: list[str]) -> int:
    order = ["lint", "unit", "chart", "integration", "app", "cluster", "molecule"]
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("stage", choices=["all", *order])
    args = parser.parse_args(argv)
    REPORTS.mkdir(parents=True, exist_ok=True)
    selected = order if args.stage == "all" else [args.stage]
    all_stages = stages()
    total = Outcome(passed=0, failed=0)
    failed_steps: list[str] = []
    for stage in selected:
        for step in all_stages[stage]:
            outcome = run(step)
            total.passed += outcome.passed
            total.failed += outcome.failed
            total.skipped += outcome.skipped
            if outcome.failed:
                failed_steps.append(step.name)
    if failed_steps:
        print("\nFailed steps: " + ", ".join(failed_steps))
    print(f"\n{total.passed} passed, {total.failed} failed")
    return 1 if total.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
