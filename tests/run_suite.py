"""Run the todo-app test suite in stages and end with one line: ``N passed, N failed``.

``python tests/run_suite.py all`` runs every stage in order (what ``make test`` and CI
run); ``lint``, ``unit``, ``chart``, ``app``, ``cluster`` and ``molecule`` run one stage.
A step that writes a JUnit report counts each test case in it: pytest gets ``--junitxml``,
the app's test scripts (backend/scripts/test.sh, frontend/scripts/test.sh and e2e.sh) get
the report's path in ``JUNIT_REPORT``. A step that exits non-zero without failed test cases
in its report (or without a report) counts one failure; any other step counts as one check.
A failed step prints the end of its output, so the CI log explains the failure, then the
Ansible tasks that failed in it. A failed step of the cluster or molecule stage, or one whose
failure involves the cluster (an unreachable API server, a failed kubectl or helm command, a
failed task of a role that works on the cluster), also prints what the cluster says: nodes,
pods not Ready and their events, the release, the last lines of each component's log.
The run ends with the failed steps and their failed test cases just above the count line,
where a CI log cut to its end still shows them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / ".cache" / "test-reports"
TAIL_LINES = 80
JUNIT_REPORT_ENV = "JUNIT_REPORT"

# What the cluster diagnostics read. The local provider keeps its state, logs and admin
# kubeconfig here (roles/cluster: cluster_local_state_dir, __cluster_local_logs); the toolchain
# role logs the dockerd it starts to toolchain_docker_log. Without a readable admin kubeconfig
# kubectl and helm use the current context, which is how the other providers are reached.
LOCAL_STATE_DIR = Path("/var/lib/todo-local")
ADMIN_KUBECONFIG = LOCAL_STATE_DIR / "kubeconfig" / "admin.conf"
COMPONENT_LOGS = {
    **{
        name: LOCAL_STATE_DIR / "logs" / f"{name}.log"
        for name in (
            "etcd",
            "kube-apiserver",
            "kube-controller-manager",
            "kube-scheduler",
            "kubelet",
            "kube-proxy",
            "containerd",
        )
    },
    "dockerd": Path("/var/log/todo-app/dockerd.log"),
}
RELEASE = "todo-app"
RELEASE_NAMESPACE = "todo-app"
# Bounds: a diagnostic command that hangs or a log line a screen wide must not bury the failure.
DIAGNOSTIC_TIMEOUT = 15
LOG_LINES = 30
DIAGNOSTICS_MAX_LINES = 400
LINE_WIDTH = 240
FAILED_TASKS_SHOWN = 3
FAILED_TASK_LINES = 20
RECAP_FAILURES_SHOWN = 5


@dataclass(frozen=True)
class Step:
    name: str
    command: list[str]
    # How the step learns where to write its JUnit report: pytest's `--junitxml=` argument,
    # or the JUNIT_REPORT environment variable. None: the step counts as one check.
    junit: Literal["argument", "env"] | None = None
    needs: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    # Its failure is explained by the cluster's state: print the cluster diagnostics.
    cluster: bool = False


@dataclass
class Outcome:
    passed: int
    failed: int
    skipped: int = 0
    # What failed, one line each (a test case and the first line of its message), for the
    # recap at the very end of the run: the part of a CI log a reader sees first.
    failures: list[str] = field(default_factory=list)


def pytest_step(name: str, *args: str, needs: tuple[str, ...] = (), cluster: bool = False) -> Step:
    return Step(
        name=name,
        command=[sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        junit="argument",
        needs=needs,
        cluster=cluster,
    )


def existing(*paths: str) -> list[str]:
    return [path for path in paths if (ROOT / path).exists()]


def stages() -> dict[str, list[Step]]:
    python_paths = existing(
        "plugins",
        "tests",
        "inventory/local/vault-client.py",
        "bench",
        "scripts",
        "roles/kind_node_image/filter_plugins",
        "roles/toolchain/files/runc-bounded",
    )
    dockerfiles = existing("backend/Dockerfile", "frontend/Dockerfile", "frontend/runtime/Dockerfile")
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
            [
                "ansible-doc",
                "-M",
                "plugins/modules",
                *sorted(p.stem for p in (ROOT / "plugins/modules").glob("*.py")),
            ],
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
        molecule.append(Step("molecule test -s default", ["molecule", "test", "-s", "default"], cluster=True))
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
            pytest_step("cluster", "tests/cluster", cluster=True),
            *(
                [pytest_step("deployment", "tests/deploy", "-m", "cluster", cluster=True)]
                if (ROOT / "tests/deploy").exists()
                else []
            ),
        ],
        "molecule": molecule,
    }


def junit_counts(path: Path) -> Outcome | None:
    """The counts of a JUnit report, and each failed test case as its id and the first line of
    its failure message (pytest puts the exception and its message there)."""
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
    failures: list[str] = []
    for case in root.iter("testcase"):
        problem = next((child for child in case if child.tag in ("failure", "error")), None)
        if problem is None:
            continue
        where = "::".join(part for part in (case.get("classname"), case.get("name")) if part)
        message = (problem.get("message") or problem.text or problem.tag).strip().splitlines()
        failures.append(clip(f"{where}: {message[0] if message else problem.tag}"))
    return Outcome(passed=total - failed - skipped, failed=failed, skipped=skipped, failures=failures)


# Ansible's output as a step shows it: maybe coloured (molecule forces colour), maybe inside a
# pytest failure report, where each line of the message is marked "E" and indented, and its
# first line starts with the exception's name.
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
PYTEST_ERROR_MARK = re.compile(r"^E(?= |$)")
EXCEPTION_NAME = re.compile(r"^\s*[\w.]*(?:Error|Exception): ")
TASK_HEADER = re.compile(r"^(TASK|RUNNING HANDLER) \[(?P<name>.*)\][ *]*$")
TASK_FAILURE = re.compile(r"^(?:fatal|failed): \[")
# What ends a multi-line failure result: the next host result, task or play, or a blank line.
RESULT_END = re.compile(
    r"^$|^(?:ok|changed|skipping|fatal|failed|included): \[|^(?:TASK|PLAY|RUNNING) |^\.\.\."
)
# Lines between a task's header and its failure that say nothing the failure does not: the
# timestamp of ansible.posix.profile_tasks, the results of the loop items that worked, and the
# task's source that Ansible quotes under its `Origin: file:line`.
TASK_NOISE = re.compile(
    r"^(?:\w+ \d{1,2} \w+ \d{4} +\d\d:\d\d:\d\d|(?:ok|changed|skipping|included): |\d+ |\^ column \d+$)"
)
# molecule's idempotence check names the tasks that changed on the second run, one a line.
IDEMPOTENCE_FAILURE = "Idempotence test failed because of the following tasks"
IDEMPOTENCE_TASK = re.compile(r"^\* \[[^]]*\] => ")
TASK_CONTEXT_LINES = 6
# The result keys that explain a failure, in the order a reader wants them.
RESULT_KEYS = ("msg", "rc", "cmd", "stderr", "stdout", "module_stderr", "module_stdout", "exception")
RESULT_VALUE_LINES = 8
# Output that shows a step failed talking to the cluster (helm, kubectl, the kubernetes
# client of kubernetes.core), or a failed command that was kubectl or helm.
CLUSTER_SIGNS = re.compile(
    r"Kubernetes cluster unreachable|The connection to the server \S+ was refused"
    r"|(?:127\.0\.0\.1|localhost):6443|port=6443"
    r"|\"cmd\": \[?\"(?:[^\"]*/)?(?:kubectl|helm)\b"
)
# The roles of site.yml that work on the cluster: their failures are explained there.
CLUSTER_ROLES = ("cluster", "image_load", "namespace", "secrets", "release", "readiness", "smoke")


def plain(line: str) -> str:
    """A line of output without colour and pytest's "E" mark; its indentation is kept."""
    return PYTEST_ERROR_MARK.sub("", ANSI_ESCAPE.sub("", line.rstrip("\n")))


def statement(line: str) -> str:
    """What a plain line says, for matching: no indentation, no exception name."""
    return EXCEPTION_NAME.sub("", line).strip()


def clip(line: str, width: int = LINE_WIDTH) -> str:
    return line if len(line) <= width else line[: width - 1] + "…"


def parse_result(payload: str, rest: list[str]) -> object:
    """An Ansible task result printed as JSON (one line or indented) or as YAML."""
    try:
        return json.loads("\n".join([payload, *rest]))
    except ValueError:
        pass
    if payload.strip():
        return None
    try:
        import yaml  # in the project's virtualenv; without it a YAML result is shown as printed
    except ImportError:
        return None
    try:
        return yaml.safe_load(textwrap.dedent("\n".join(rest)))
    except yaml.YAMLError:
        return None


def summarise_failure(failure: list[str]) -> list[str]:
    """An Ansible failure (`fatal: [host]: FAILED! => result`) as the result keys that explain it."""
    head, _, payload = statement(failure[0]).partition("=>")
    result = parse_result(payload, failure[1:])
    if not isinstance(result, dict):
        return [clip(statement(line)) for line in failure[:RESULT_VALUE_LINES]]
    lines = [head.strip()]
    for key in RESULT_KEYS:
        value = result.get(key)
        if value in (None, "", []):
            continue
        if isinstance(value, list):
            value = " ".join(str(part) for part in value)
        value_lines = str(value).splitlines() or [""]
        if len(value_lines) == 1:
            lines.append(clip(f"  {key}: {value_lines[0]}"))
        else:
            lines.append(f"  {key}: (last {min(len(value_lines), RESULT_VALUE_LINES)} lines)")
            lines += [clip(f"    {line}") for line in value_lines[-RESULT_VALUE_LINES:]]
    return lines


def failed_tasks(output: list[str]) -> list[list[str]]:
    """The Ansible tasks that failed in a step's output, each as its header, what Ansible said
    before the failure ([ERROR], Origin) and the failure. Failures the task ignored
    (`...ignoring`) are left out; a failure a block rescued looks like any other in the output
    and is listed too, which is why the last failed tasks are the ones shown."""
    tasks: list[list[str]] = []
    header: str | None = None
    context: list[str] = []
    failures: list[list[str]] = []
    in_result = False

    def close() -> None:
        if header is not None and failures:
            block = [header, *(f"  {line}" for line in context[-TASK_CONTEXT_LINES:])]
            for failure in failures:
                block += [f"  {line}" for line in summarise_failure(failure)]
            tasks.append(block[:FAILED_TASK_LINES])

    for raw in output:
        line = plain(raw)
        said = statement(line)
        if in_result and not RESULT_END.match(said) and len(failures[-1]) < 200:
            failures[-1].append(line)  # a result printed on several lines (indented JSON, YAML)
            continue
        in_result = False
        if match := TASK_HEADER.match(said):
            close()
            header, context, failures = f"{match.group(1)} [{match.group('name')}]", [], []
        elif said.startswith("PLAY "):
            close()
            header, context, failures = None, [], []
        elif header is None:
            continue
        elif TASK_FAILURE.match(said):
            failures.append([line])
            in_result = parse_result(said.partition("=>")[2], []) is None
        elif said == "...ignoring":
            failures = []
        elif said and not failures and not TASK_NOISE.match(said):
            context.append(clip(said))
    close()
    return tasks


def changed_on_second_run(output: list[str]) -> list[str]:
    """The tasks molecule's idempotence check reports as changed on the second run."""
    tasks: list[str] = []
    listing = False
    for raw in output:
        said = statement(plain(raw))
        if IDEMPOTENCE_FAILURE in said:
            tasks, listing = [], True
        elif listing and IDEMPOTENCE_TASK.match(said):
            tasks.append(clip(said))
        else:
            listing = False
    return tasks[:FAILED_TASK_LINES]


def involves_cluster(step: Step, output: list[str], tasks: list[list[str]]) -> bool:
    if step.cluster:
        return True
    roles = {task[0].partition("[")[2].partition(" : ")[0] for task in tasks if " : " in task[0]}
    return bool(roles.intersection(CLUSTER_ROLES)) or any(CLUSTER_SIGNS.search(line) for line in output)


def capture(command: list[str]) -> tuple[bool, str]:
    """Run a read-only diagnostic command: (True, its output), or (False, why it failed)."""
    timeout = DIAGNOSTIC_TIMEOUT
    try:
        result = subprocess.run(
            command,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        return False, f"{command[0]} is not installed"
    except subprocess.TimeoutExpired:
        return False, f"`{' '.join(command[:4])} …` did not answer within {timeout:.0f}s"
    except OSError as error:
        return False, f"{command[0]}: {error}"
    if result.returncode != 0:
        why = (result.stderr.strip() or result.stdout.strip() or f"exit {result.returncode}").splitlines()
        return False, why[-1]
    return True, result.stdout


def kubeconfig() -> list[str]:
    return [f"--kubeconfig={ADMIN_KUBECONFIG}"] if os.access(ADMIN_KUBECONFIG, os.R_OK) else []


def kubectl(*args: str) -> tuple[bool, str]:
    return capture(["kubectl", *kubeconfig(), "--request-timeout=10s", *args])


def helm(*args: str) -> tuple[bool, str]:
    return capture(["helm", *kubeconfig(), *args])


def not_ready_pods(table: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The rows of `kubectl get pods -A` (header first) whose pod is not Ready and not done."""
    header, *rows = table.splitlines() or [""]
    selected: list[str] = []
    pods: list[tuple[str, str]] = []
    for row in rows:
        columns = row.split()
        if len(columns) < 4 or columns[3] in ("Completed", "Succeeded"):
            continue
        ready, _, total = columns[2].partition("/")
        if ready != total:
            selected.append(row)
            pods.append((columns[0], columns[1]))
    return [header, *selected], pods


def cluster_state() -> list[str]:
    reachable, why = kubectl("get", "--raw=/readyz")
    if not reachable:
        return [f"cluster unreachable: {why}"]
    lines: list[str] = []
    ok, nodes = kubectl("get", "nodes")
    lines += ["nodes:", *(nodes.splitlines() if ok else [f"  {nodes}"])]
    ok, table = kubectl("get", "pods", "-A", "-o", "wide")
    pods: list[tuple[str, str]] = []
    if not ok:
        lines.append(f"pods: {table}")
    else:
        rows, pods = not_ready_pods(table)
        if pods:
            lines += [f"pods not Ready ({len(pods)}):", *rows[:1], *rows[1:][:20]]
        else:
            lines.append(f"pods: all {len(table.splitlines()) - 1} Ready or completed")
    ok, events = kubectl("get", "events", "-A", "--sort-by=.lastTimestamp")
    if not ok:
        lines.append(f"events: {events}")
    else:
        header, *rows = events.splitlines() or [""]
        theirs = [
            row for row in rows if any(row.split()[:1] == [ns] and f"pod/{name}" in row for ns, name in pods)
        ]
        if theirs:
            lines += ["events of the pods not Ready (latest last):", header, *theirs[-15:]]
        lines += ["latest events, all namespaces:", header, *rows[-10:]]
    ok, status = helm("status", RELEASE, "-n", RELEASE_NAMESPACE)
    if ok:
        lines += [f"helm status {RELEASE}:", *status.split("NOTES:")[0].strip().splitlines()]
        ok, history = helm("history", RELEASE, "-n", RELEASE_NAMESPACE, "--max", "5")
        lines += ["helm history:", *(history.splitlines() if ok else [f"  {history}"])]
    elif "not found" in status:
        lines.append(f"helm: no release {RELEASE} in namespace {RELEASE_NAMESPACE}")
    else:
        lines.append(f"helm status {RELEASE}: {status}")
    return lines


def tail_file(path: Path, count: int) -> list[str]:
    """The last `count` lines of a log that may be large, reading only its end."""
    window = 64 * 1024
    with path.open("rb") as log:
        size = log.seek(0, os.SEEK_END)
        log.seek(max(0, size - window))
        lines = log.read().decode(errors="replace").splitlines()
    return (lines[1:] if size > window else lines)[-count:]


def component_logs() -> list[str]:
    lines: list[str] = []
    for name, path in COMPONENT_LOGS.items():
        try:
            last = tail_file(path, LOG_LINES)
        except FileNotFoundError:
            lines.append(f"{name}: no log at {path}")
            continue
        except OSError as error:
            lines.append(f"{name}: cannot read {path}: {error.strerror}")
            continue
        lines += [f"last {len(last)} lines of {path}:", *(f"  {line}" for line in last)]
    return lines


def cluster_diagnostics() -> list[str]:
    """What the cluster says after a failure, bounded in time and size; never raises."""
    lines: list[str] = []
    for what, part in (("the cluster's state", cluster_state), ("the component logs", component_logs)):
        try:
            lines += part()
        except Exception as error:  # diagnostics must not fail the suite
            lines.append(f"could not read {what}: {error!r}")
    lines = [clip(line) for line in lines]
    if len(lines) > DIAGNOSTICS_MAX_LINES:
        cut = len(lines) - DIAGNOSTICS_MAX_LINES
        lines = [*lines[:DIAGNOSTICS_MAX_LINES], f"({cut} more lines of diagnostics left out)"]
    return lines


def explain(step: Step, output: list[str]) -> None:
    """After a failed step's tail: the Ansible tasks that failed and, when the failure involves
    the cluster, the cluster diagnostics."""
    tasks = failed_tasks(output)
    if tasks:
        shown = tasks[-FAILED_TASKS_SHOWN:]
        earlier = f", {len(tasks) - len(shown)} earlier ones left out" if len(tasks) > len(shown) else ""
        print(f"--- failed Ansible tasks of {step.name} ({len(tasks)}{earlier}):")
        for task in shown:
            print("\n".join(task))
    changed = changed_on_second_run(output)
    if changed:
        print(f"--- tasks that changed on the second run of {step.name}:")
        print("\n".join(changed))
    if involves_cluster(step, output, tasks):
        print(f"--- cluster diagnostics after {step.name}:")
        print("\n".join(cluster_diagnostics()))


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
        return Outcome(passed=0, failed=1, failures=[f"{missing[0]} is not installed"])
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
    failed = rc != 0 or (counts is not None and counts.failed > 0)
    status = "ok" if not failed else f"FAILED (exit {rc})"
    if step.junit and counts is None and rc == 0:
        failed = True
        status = f"FAILED (exit 0 but no readable JUnit report at {report})"
    elif counts is not None and not failed and counts.passed == 0:
        failed = True  # every test skipped, or none collected: nothing was proven
        status = f"FAILED (no test ran: {counts.skipped} skipped)"
        counts.failed = 1
    if counts is None:
        counts = Outcome(passed=int(not failed), failed=int(failed))
    elif failed and counts.failed == 0:
        counts.failed = 1  # failed outside its test cases (collection error, crash, lint)
    if failed and not counts.failures:
        counts.failures = [status]
    print(
        f"--- {step.name}: {status} in {elapsed:.0f}s ({counts.passed} passed, {counts.failed} failed, {counts.skipped} skipped)"
    )
    if failed:
        print(f"--- last {TAIL_LINES} lines of {step.name}:")
        sys.stdout.write("".join(lines[-TAIL_LINES:]))
        try:
            explain(step, lines)
        except Exception as error:  # the explanation must not turn one failure into a crash
            print(f"--- could not explain the failure of {step.name}: {error!r}")
    return counts


def stage_times(seconds: dict[str, float]) -> str:
    """One line with each stage's wall time and the total, for the end of a CI log."""
    parts = [
        f"{stage} {value / 60:.1f} min" if value >= 60 else f"{stage} {value:.0f} s"
        for stage, value in seconds.items()
    ]
    return f"Stage times: {', '.join(parts)}; total {sum(seconds.values()) / 60:.1f} min"


def main(argv: list[str]) -> int:
    order = ["lint", "unit", "chart", "integration", "app", "cluster", "molecule"]
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("stage", choices=["all", *order])
    args = parser.parse_args(argv)
    REPORTS.mkdir(parents=True, exist_ok=True)
    selected = order if args.stage == "all" else [args.stage]
    all_stages = stages()
    total = Outcome(passed=0, failed=0)
    failed_steps: dict[str, list[str]] = {}
    stage_seconds: dict[str, float] = {}
    for stage in selected:
        began = time.monotonic()
        for step in all_stages[stage]:
            outcome = run(step)
            total.passed += outcome.passed
            total.failed += outcome.failed
            total.skipped += outcome.skipped
            if outcome.failed:
                failed_steps[step.name] = outcome.failures
        stage_seconds[stage] = time.monotonic() - began
    print("\n" + stage_times(stage_seconds))
    if failed_steps:
        print("\nFailed steps: " + ", ".join(failed_steps))
        for name, failures in failed_steps.items():
            shown = failures[:RECAP_FAILURES_SHOWN]
            more = f" ({len(failures) - len(shown)} more above)" if len(failures) > len(shown) else ""
            print(f"  {name}{more}:", *(f"    {failure}" for failure in shown), sep="\n")
    print(f"\n{total.passed} passed, {total.failed} failed")
    return 1 if total.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
