"""Unit tests for tests/run_suite.py: how steps are counted and how a failure is explained."""

from __future__ import annotations

import importlib.util
import json
import re
import stat
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SUITE_PATH = Path(__file__).resolve().parents[1] / "run_suite.py"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"


def _load_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("run_suite", SUITE_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


suite = _load_module()


def junit(path: Path, *, tests: int, failures: int = 0, errors: int = 0, skipped: int = 0) -> Path:
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?><testsuites>'
        f'<testsuite name="pytest" tests="{tests}" failures="{failures}" errors="{errors}" skipped="{skipped}">'
        '<testcase classname="t" name="a"/></testsuite></testsuites>'
    )
    return path


def outcome(result: Any) -> tuple[int, int, int]:
    return (result.passed, result.failed, result.skipped)


# junit_counts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("report", "expected"),
    [
        ('<testsuites><testsuite tests="3"/></testsuites>', (3, 0, 0)),
        ('<testsuites><testsuite tests="5" failures="1" errors="1"/></testsuites>', (3, 2, 0)),
        ('<testsuites><testsuite tests="4" skipped="3"/></testsuites>', (1, 0, 3)),
        ('<testsuite tests="2" failures="1"><testcase name="a"/></testsuite>', (1, 1, 0)),
        (
            '<testsuites><testsuite tests="2" failures="1"/><testsuite tests="3" skipped="1"/></testsuites>',
            (3, 1, 1),
        ),
    ],
    ids=["passing", "failures and errors", "skipped apart", "bare testsuite root", "every suite summed"],
)
def test_junit_counts(tmp_path: Path, report: str, expected: tuple[int, int, int]) -> None:
    (tmp_path / "r.xml").write_text(report)
    assert outcome(suite.junit_counts(tmp_path / "r.xml")) == expected


def test_half_written_or_missing_report_is_no_report(tmp_path: Path) -> None:
    (tmp_path / "r.xml").write_text('<?xml version="1.0"?><testsuites><testsuite tests="3" failures="0">')
    assert suite.junit_counts(tmp_path / "r.xml") is None
    assert suite.junit_counts(tmp_path / "absent.xml") is None


# run ---------------------------------------------------------------------------------------


@pytest.fixture
def reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "reports"
    directory.mkdir()
    monkeypatch.setattr(suite, "REPORTS", directory)
    return directory


@pytest.fixture
def diagnosed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the calls of the cluster diagnostics, which print a marker instead."""
    calls: list[int] = []

    def fake() -> list[str]:
        calls.append(1)
        return ["CLUSTER-DIAGNOSTICS-MARKER"]

    monkeypatch.setattr(suite, "cluster_diagnostics", fake)
    return calls


def script_step(name: str, code: str, *, junit: str | None = "env", cluster: bool = False) -> Any:
    """A step running Python code; `report` is where the step must write its JUnit report."""
    prelude = (
        "import os, sys\n"
        "report = os.environ.get('JUNIT_REPORT') or "
        "next((a.split('=', 1)[1] for a in sys.argv if a.startswith('--junitxml=')), '')\n"
        "def write(tests, failures=0):\n"
        "    open(report, 'w').write("
        'f\'<testsuites><testsuite tests="{tests}" failures="{failures}"/></testsuites>\')\n'
    )
    return suite.Step(name, [sys.executable, "-c", prelude + code], junit=junit, cluster=cluster)


def test_report_and_exit_0_count_the_report(reports: Path, diagnosed: list[int]) -> None:
    result = suite.run(script_step("ok", "write(4)"))
    assert outcome(result) == (4, 0, 0)
    assert diagnosed == []


def test_report_through_the_junitxml_argument_is_counted(reports: Path) -> None:
    result = suite.run(script_step("argument", "write(2)", junit="argument"))
    assert outcome(result) == (2, 0, 0)


def test_failing_report_counts_its_failed_cases(reports: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = suite.run(script_step("failing", "write(5, failures=2); print('boom'); sys.exit(1)"))
    assert outcome(result) == (3, 2, 0)
    out = capsys.readouterr().out
    assert "FAILED (exit 1)" in out and "last 80 lines of failing:\nboom" in out


def test_failed_cases_with_exit_0_still_fail(reports: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = suite.run(script_step("lying", "write(3, failures=1)"))
    assert outcome(result) == (2, 1, 0)
    assert "lying: FAILED" in capsys.readouterr().out


def test_exit_non_zero_without_failed_cases_counts_one_failure(reports: Path) -> None:
    result = suite.run(script_step("crashed", "write(3); sys.exit(2)"))
    assert outcome(result) == (3, 1, 0)


def test_exit_0_without_a_report_is_a_failure(reports: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = suite.run(script_step("silent", "pass"))
    assert outcome(result) == (0, 1, 0)
    assert "exit 0 but no readable JUnit report" in capsys.readouterr().out


def test_stale_report_of_an_earlier_run_is_not_counted(reports: Path) -> None:
    junit(reports / "stale.xml", tests=9)
    assert outcome(suite.run(script_step("stale", "pass"))) == (0, 1, 0)


def test_step_whose_report_holds_no_test_that_ran_fails(
    reports: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = "open(report, 'w').write('<testsuites><testsuite tests=\"3\" skipped=\"3\"/></testsuites>')"
    result = suite.run(script_step("all skipped", code))
    assert outcome(result) == (0, 1, 3)
    assert result.failures == ["FAILED (no test ran: 3 skipped)"]
    assert "all skipped: FAILED (no test ran: 3 skipped)" in capsys.readouterr().out
    assert outcome(suite.run(script_step("none collected", "write(0)"))) == (0, 1, 0)


def test_pytest_step_that_collects_nothing_fails(reports: Path, tmp_path: Path) -> None:
    (tmp_path / "test_nothing.py").write_text("x = 1\n")
    result = suite.run(suite.under_pytest("empty", str(tmp_path / "test_nothing.py")))
    assert outcome(result) == (0, 1, 0)
    assert result.failures == ["FAILED (exit 5)"]  # pytest's own verdict: no tests collected


def test_stage_times_name_each_stage_and_the_total() -> None:
    line = suite.stage_times({"lint": 58.2, "cluster": 383.0, "molecule": 266.4})
    assert line == "Stage times: lint 58 s, cluster 6.4 min, molecule 4.4 min; total 11.8 min"


def test_step_without_report_counts_as_one_check(reports: Path) -> None:
    assert outcome(suite.run(script_step("check", "pass", junit=None))) == (1, 0, 0)
    assert outcome(suite.run(script_step("check", "sys.exit(3)", junit=None))) == (0, 1, 0)


def test_missing_tool_is_one_failure_that_says_how_to_install(
    reports: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = suite.run(suite.Step("tool", ["todo-app-no-such-tool", "--version"]))
    assert outcome(result) == (0, 1, 0)
    assert "todo-app-no-such-tool is not installed; run `make venv`" in capsys.readouterr().out


def test_missing_path_of_the_repository_fails_the_step_and_says_which(
    reports: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    step = suite.Step("chart", [sys.executable, "-c", "pass", Path("tests/no-such-dir")])
    result = suite.run(step)
    assert outcome(result) == (0, 1, 0)
    assert result.failures == ["FAILED (tests/no-such-dir is missing from the repository)"]
    assert "chart: FAILED (tests/no-such-dir is missing from the repository)" in capsys.readouterr().out


def test_every_stage_is_declared_with_its_steps_and_their_paths_exist() -> None:
    assert list(suite.STAGES) == ["lint", "unit", "chart", "integration", "app", "cluster", "molecule"]
    for stage, steps in suite.STAGES.items():
        assert steps, stage
        for step in steps:
            assert all((suite.ROOT / arg).exists() for arg in step.command if isinstance(arg, Path)), step


def test_pytest_steps_print_their_slowest_tests_and_record_failed_tasks_per_test() -> None:
    steps = [step for steps in suite.STAGES.values() for step in steps if step.junit == "argument"]
    assert {step.name for step in steps} == {
        "unit",
        "chart",
        "integration",
        "images",
        "cluster",
        "deployment",
    }
    for step in steps:
        assert "--durations=15" in step.command and "tests.run_suite" in step.command, step.name


def test_cluster_and_molecule_steps_are_marked() -> None:
    stages = suite.STAGES
    assert all(step.cluster for step in stages["cluster"])
    assert [step.cluster for step in stages["molecule"]] == [True, False]  # the kind one is syntax only
    assert not any(step.cluster for step in stages["lint"] + stages["unit"])


def test_failed_cluster_step_prints_the_diagnostics_after_the_tail(
    reports: Path, diagnosed: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    suite.run(script_step("cluster", "print('last words'); sys.exit(1)", junit=None, cluster=True))
    out = capsys.readouterr().out
    assert diagnosed == [1]
    assert out.index("last words") < out.index("cluster diagnostics after cluster:")
    assert out.index("cluster diagnostics after cluster:") < out.index("CLUSTER-DIAGNOSTICS-MARKER")


def test_passing_cluster_step_prints_no_diagnostics(reports: Path, diagnosed: list[int]) -> None:
    suite.run(script_step("cluster", "pass", junit=None, cluster=True))
    assert diagnosed == []


def test_failed_step_away_from_the_cluster_prints_no_diagnostics(reports: Path, diagnosed: list[int]) -> None:
    suite.run(script_step("ruff", "print('E501 line too long'); sys.exit(1)", junit=None))
    assert diagnosed == []


def test_failed_step_that_could_not_reach_the_cluster_prints_diagnostics(
    reports: Path, diagnosed: list[int]
) -> None:
    code = "print('Error: Kubernetes cluster unreachable: connection refused'); sys.exit(1)"
    suite.run(script_step("images", code, junit=None))
    assert diagnosed == [1]


def test_a_crash_of_the_explanation_does_not_crash_the_suite(
    reports: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(files: list[Path]) -> list[list[str]]:
        raise RuntimeError("parser bug")

    monkeypatch.setattr(suite, "failed_tasks", broken)
    assert outcome(suite.run(script_step("x", "sys.exit(1)", junit=None))) == (0, 1, 0)
    assert "could not explain the failure of x" in capsys.readouterr().out


# The recap at the end of the run -------------------------------------------------------------

FAILED_CASES = """\
<testsuites><testsuite tests="3" failures="1" errors="1">
<testcase classname="tests.cluster.test_local_cluster" name="test_ok"/>
<testcase classname="tests.cluster.test_local_cluster" name="test_second_run_changes_nothing">
<failure message="AssertionError: changed=1 on the second run&#10;assert 1 == 0">trace</failure>
</testcase>
<testcase classname="tests.deploy.test_site" name="test_upgrade"><error message="">setup trace</error></testcase>
</testsuite></testsuites>
"""


def test_junit_counts_name_each_failed_case_and_its_message(tmp_path: Path) -> None:
    report = tmp_path / "r.xml"
    report.write_text(FAILED_CASES)
    assert suite.junit_counts(report).failures == [
        "tests.cluster.test_local_cluster::test_second_run_changes_nothing: AssertionError: changed=1 on the second run",
        "tests.deploy.test_site::test_upgrade: setup trace",
    ]
    assert suite.junit_counts(junit(tmp_path / "passing.xml", tests=2)).failures == []


def test_run_ends_with_what_failed_just_above_the_count(
    reports: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = tmp_path / "cases.xml"
    cases.write_text(FAILED_CASES)
    steps: dict[str, list[Any]] = {stage: [script_step(f"{stage} ok", "write(1)")] for stage in suite.STAGES}
    steps["lint"] = [
        script_step("ruff", "print('E501'); sys.exit(1)", junit=None),
        script_step("ok", "write(2)"),
    ]
    steps["cluster"] = [
        script_step("cluster", f"import shutil; shutil.copy({str(cases)!r}, report); sys.exit(1)")
    ]
    monkeypatch.setattr(suite, "STAGES", steps)
    monkeypatch.setattr(suite, "explain", lambda step, output, files: None)

    assert suite.main(["all"]) == 1
    end = capsys.readouterr().out.splitlines()[-8:]
    assert end == [
        "Failed steps: ruff, cluster",
        "  ruff:",
        "    FAILED (exit 1)",
        "  cluster:",
        "    tests.cluster.test_local_cluster::test_second_run_changes_nothing: AssertionError: changed=1 on the second run",
        "    tests.deploy.test_site::test_upgrade: setup trace",
        "",
        "8 passed, 3 failed",
    ]


def test_stage_without_a_step_fails_and_is_named(
    reports: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(suite, "STAGES", {"chart": []})
    assert suite.main(["chart"]) == 1
    assert capsys.readouterr().out.splitlines()[-5:] == [
        "Failed steps: stage chart",
        "  stage chart:",
        "    no steps",
        "",
        "0 passed, 1 failed",
    ]


# The failed Ansible tasks, from the failed_tasks callback ------------------------------------

# One play as the project's tests run them: a failure the task ignores, a task that works, a loop
# whose second item fails inside a block that rescues it, a rescued failure of a no_log task,
# then a command that fails.
PLAYBOOK = """\
- name: Deploy
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Check the Docker engine
      ansible.builtin.command: "false"
      ignore_errors: true
    - name: Start the API server
      ansible.builtin.debug: {msg: ok}
    - name: Try every item
      block:
        - name: Load the images
          ansible.builtin.command: "sh -c 'echo loading {{ item }} >&2; exit {{ item }}'"
          loop: [0, 3]
      rescue:
        - name: Carry on
          ansible.builtin.debug: {msg: rescued}
    - name: Keep the secret
      block:
        - name: Write the secret
          ansible.builtin.command: "sh -c 'echo s3cr3t >&2; exit 1'"
          no_log: true
      rescue:
        - name: Carry on
          ansible.builtin.debug: {msg: rescued}
    - name: Install the chart
      ansible.builtin.command: "sh -c 'echo Error: UPGRADE FAILED: timed out >&2; echo waiting >&2; exit 4'"
"""
DELIBERATE = """\
- name: Refuse
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Refuse a non-root user
      ansible.builtin.fail: {msg: deliberate refusal}
"""


def test_failed_tasks_of_a_real_playbook_come_from_the_callback_in_order(
    reports: Path, tmp_path: Path, diagnosed: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    playbook = tmp_path / "deploy.yml"
    playbook.write_text(PLAYBOOK)
    inventory = ["-i", "localhost,", "-c", "local", "-e", f"ansible_python_interpreter={sys.executable}"]
    step = suite.Step("deploy", [str(ANSIBLE_PLAYBOOK), *inventory, str(playbook)])
    result = suite.run(step)
    assert outcome(result) == (0, 1, 0)
    # The recap at the end of the run names the task that ended the play, not just the exit code.
    assert result.failures == [
        "FAILED (exit 2)",
        f"failed: [localhost] Install the chart ({playbook}:26)",
        "  msg: non-zero return code",
    ]
    out = capsys.readouterr().out
    explained = out[out.index("--- failed Ansible tasks of deploy (3):") :].splitlines()[1:]
    assert explained == [
        f"failed: [localhost] Load the images ({playbook}:12)",
        "  item: 3",
        "  msg: non-zero return code",
        "  rc: 3",
        "  cmd: sh -c echo loading 3 >&2; exit 3",
        "  stderr: loading 3",
        f"failed: [localhost] Write the secret ({playbook}:20)",
        "  censored: the output has been hidden due to the fact that 'no_log: true' was specified for this result",
        f"failed: [localhost] Install the chart ({playbook}:26)",
        "  msg: non-zero return code",
        "  rc: 4",
        "  cmd: sh -c echo Error: UPGRADE FAILED: timed out >&2; echo waiting >&2; exit 4",
        "  stderr: (last 2 lines)",
        "    Error: UPGRADE FAILED: timed out",
        "    waiting",
    ]
    assert diagnosed == []  # neither a role that works on the cluster nor kubectl or helm
    assert "s3cr3t" not in (reports / "failed-tasks" / "deploy" / "step.jsonl").read_text()
    assert re.search(
        r"\(\d+:\d\d:\d\d\.\d+\) +\d+:\d\d:\d\d\.\d+ \*", out
    )  # ansible.cfg's profile_tasks stays


def test_failed_pytest_case_is_explained_by_its_own_tasks_not_by_a_deliberate_failure(
    reports: Path, tmp_path: Path, diagnosed: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "deliberate.yml").write_text(DELIBERATE)
    (tmp_path / "deploy.yml").write_text(PLAYBOOK)
    (tmp_path / "test_playbooks.py").write_text(
        "import subprocess, sys\n"
        f"ARGS = [{str(ANSIBLE_PLAYBOOK)!r}, '-i', 'localhost,', '-c', 'local',"
        f" '-e', 'ansible_python_interpreter={sys.executable}']\n"
        "def play(name):\n"
        f"    return subprocess.run([*ARGS, {str(tmp_path)!r} + '/' + name], check=False).returncode\n"
        "def test_refuses():\n"
        "    assert play('deliberate.yml') == 2\n"
        "def test_deploys():\n"
        "    assert play('deploy.yml') == 0\n"
    )
    result = suite.run(suite.under_pytest("playbooks", str(tmp_path / "test_playbooks.py")))
    assert outcome(result) == (1, 1, 0)
    assert [path.name.endswith("test_playbooks.py-test_deploys.jsonl") for path in result.task_files] == [
        True
    ]
    out = capsys.readouterr().out
    explained = out[out.index("--- failed Ansible tasks of playbooks (3):") :]
    assert "Install the chart" in explained and "Load the images" in explained
    assert "Refuse a non-root user" not in explained
    assert "slowest 15 durations" in out


def record(task: str, path: str, result: dict[str, Any]) -> str:
    entry = {"host": "localhost", "task": task, "path": path, "status": "failed", "result": result}
    return json.dumps(entry) + "\n"


def test_explain_shows_the_last_failed_tasks_only(
    tmp_path: Path, diagnosed: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    tasks = tmp_path / "step.jsonl"
    tasks.write_text("".join(record(f"task {n}", f"play.yml:{n}", {"msg": f"m{n}"}) for n in range(5)))
    suite.explain(suite.Step("molecule", ["molecule"]), [], [tasks, tmp_path / "absent.jsonl"])
    out = capsys.readouterr().out
    assert "failed Ansible tasks of molecule (5, 2 earlier ones left out):" in out
    assert "task 1" not in out and "task 2 (play.yml:2)\n  msg: m2" in out and "task 4" in out
    assert diagnosed == []


def test_failed_task_is_bounded(tmp_path: Path) -> None:
    tasks = tmp_path / "step.jsonl"
    tasks.write_text(
        record("x", "p.yml:1", {"msg": "m", "stdout": "\n".join(f"line {n}" for n in range(500))})
    )
    task = suite.failed_tasks([tasks])[0]
    assert len(task) <= suite.FAILED_TASK_LINES
    assert "    line 499" in task and "    line 491" not in task


def test_record_cut_short_by_a_killed_run_is_left_out(tmp_path: Path) -> None:
    tasks = tmp_path / "step.jsonl"
    tasks.write_text(
        record("first", "p.yml:1", {"msg": "m"}) + record("second", "p.yml:2", {"msg": "m"})[:40]
    )
    assert suite.failed_tasks([tasks]) == [["failed: [localhost] first (p.yml:1)", "  msg: m"]]


def test_tasks_that_changed_on_molecules_second_run() -> None:
    output = (
        "INFO     default ➜ idempotence: Executing\n"
        "\x1b[31mCRITICAL Idempotence test failed because of the following tasks:\n"
        "* [localhost] => cluster : Write the kubeconfig\n"
        "* [localhost] => release : Install the chart\n"
        "INFO     default ➜ destroy: Executing\n"
        "* not a task\n"
    )
    assert suite.changed_on_second_run(output.splitlines(keepends=True)) == [
        "* [localhost] => cluster : Write the kubeconfig",
        "* [localhost] => release : Install the chart",
    ]
    assert suite.changed_on_second_run(["* [localhost] => not after the failure\n"]) == []


def test_recap_of_a_failed_idempotence_check_names_the_changed_tasks(reports: Path) -> None:
    code = (
        "print('CRITICAL Idempotence test failed because of the following tasks:')\n"
        "print('* [localhost] => release : Install the chart')\n"
        "sys.exit(2)\n"
    )
    result = suite.run(script_step("molecule", code, junit=None))
    assert result.failures == [
        "FAILED (exit 2)",
        "tasks that changed on the second run:",
        "* [localhost] => release : Install the chart",
    ]


@pytest.mark.parametrize(
    ("task", "output", "expected"),
    [
        (
            [
                f"failed: [localhost] release : Install the chart ({suite.ROOT}/roles/release/tasks/main.yml:3)"
            ],
            "",
            True,
        ),
        (["failed: [localhost] images : Build the backend (roles/images/tasks/build.yml:9)"], "", False),
        (["failed: [localhost] x (p.yml:1)", "  cmd: /usr/bin/kubectl get pods"], "", True),
        (["failed: [localhost] x (p.yml:1)", "  cmd: helm upgrade --install"], "", True),
        (["failed: [localhost] x (p.yml:1)", "  msg: the helm chart is invalid"], "", False),
        ([], "The connection to the server 127.0.0.1:6443 was refused\n", True),
        ([], "roles/release/tasks/main.yml:3: fqcn[action]: use kubernetes.core.helm\n", False),
    ],
)
def test_which_failures_involve_the_cluster(task: list[str], output: str, expected: bool) -> None:
    tasks = [task] if task else []
    assert suite.involves_cluster(suite.Step("any", ["true"]), [output], tasks) is expected
    assert suite.involves_cluster(suite.Step("any", ["true"], cluster=True), [], []) is True


# The cluster diagnostics --------------------------------------------------------------------


def stub(directory: Path, name: str, body: str) -> None:
    directory.mkdir(exist_ok=True)
    path = directory / name
    path.write_text(f'#!/bin/sh\necho "$*" >> "{directory}/calls"\n{body}\n')
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """The component logs in tmp_path: the API server's is long, the kubelet's is absent."""
    directory = tmp_path / "logs"
    directory.mkdir()
    paths = {"kube-apiserver": directory / "kube-apiserver.log", "kubelet": directory / "kubelet.log"}
    paths["kube-apiserver"].write_text("".join(f"apiserver line {n}\n" for n in range(5000)))
    monkeypatch.setattr(suite, "COMPONENT_LOGS", paths)
    monkeypatch.setattr(suite, "ADMIN_KUBECONFIG", tmp_path / "absent-admin.conf")
    return paths


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "bin"
    directory.mkdir()
    monkeypatch.setenv("PATH", str(directory))
    return directory


def test_without_kubectl_the_cluster_is_unreachable_and_logs_still_shown(
    logs: dict[str, Path], bin_dir: Path
) -> None:
    report = suite.cluster_diagnostics()
    assert report[0] == "cluster unreachable: kubectl is not installed"
    assert f"last 30 lines of {logs['kube-apiserver']}:" in report
    assert "  apiserver line 4999" in report and "  apiserver line 4969" not in report
    assert "  apiserver line 4970" in report
    assert f"kubelet: no log at {logs['kubelet']}" in report


def test_refused_connection_says_cluster_unreachable_and_asks_nothing_more(
    logs: dict[str, Path], bin_dir: Path
) -> None:
    stub(bin_dir, "kubectl", 'echo "The connection to the server 127.0.0.1:6443 was refused" >&2; exit 1')
    stub(bin_dir, "helm", "exit 0")
    report = suite.cluster_diagnostics()
    assert report[0] == "cluster unreachable: The connection to the server 127.0.0.1:6443 was refused"
    calls = (bin_dir / "calls").read_text().splitlines()
    assert calls == ["--request-timeout=10s get --raw=/readyz"]  # no helm, no further kubectl


def test_hanging_kubectl_is_cut_off(
    logs: dict[str, Path], bin_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stub(bin_dir, "kubectl", "exec /bin/sleep 30")
    monkeypatch.setattr(suite, "DIAGNOSTIC_TIMEOUT", 1)
    report = suite.cluster_diagnostics()
    assert report[0].startswith("cluster unreachable: `kubectl --request-timeout=10s get --raw=/readyz …`")
    assert report[0].endswith("did not answer within 1s")


PODS = """\
NAMESPACE     NAME                 READY   STATUS             RESTARTS      AGE   IP           NODE
kube-system   coredns-1            1/1     Running            0             1h    10.244.0.2   todo-local
todo-app      todo-app-backend-1   0/1     CrashLoopBackOff   4 (30s ago)   5m    10.244.0.9   todo-local
todo-app      todo-app-migrate-1   0/1     Completed          0             5m    10.244.0.8   todo-local
"""
EVENTS = """\
NAMESPACE     LAST SEEN   TYPE      REASON    OBJECT                   MESSAGE
todo-app      5m          Normal    Pulled    pod/todo-app-migrate-1   Pulled
kube-system   4m          Normal    Started   pod/coredns-1            Started
todo-app      30s         Warning   BackOff   pod/todo-app-backend-1   Back-off restarting failed container
"""


def answering_kubectl(bin_dir: Path) -> None:
    stub(
        bin_dir,
        "kubectl",
        f"""case "$*" in
  *readyz*) echo ok ;;
  *"get nodes"*) printf 'NAME STATUS\\ntodo-local Ready\\n' ;;
  *"get pods"*) printf '%s' '{PODS}' ;;
  *"get events"*) printf '%s' '{EVENTS}' ;;
esac""",
    )


def test_reachable_cluster_shows_pods_not_ready_with_their_events_and_no_release(
    logs: dict[str, Path], bin_dir: Path
) -> None:
    answering_kubectl(bin_dir)
    stub(bin_dir, "helm", 'echo "Error: release: not found" >&2; exit 1')
    report = suite.cluster_diagnostics()
    text = "\n".join(report)
    assert "todo-local Ready" in text
    assert "pods not Ready (1):" in report
    assert "todo-app-backend-1   0/1     CrashLoopBackOff" in text
    assert "todo-app-migrate-1   0/1     Completed" not in text  # a finished Job's pod is fine
    theirs = text.split("events of the pods not Ready (latest last):")[1].split("latest events")[0]
    assert "Back-off restarting failed container" in theirs and "coredns-1" not in theirs
    assert "helm: no release todo-app in namespace todo-app" in report


def test_reachable_cluster_shows_the_release_status_without_its_notes_and_its_history(
    logs: dict[str, Path], bin_dir: Path
) -> None:
    answering_kubectl(bin_dir)
    stub(
        bin_dir,
        "helm",
        """case "$1" in
  status) printf 'NAME: todo-app\\nSTATUS: failed\\nREVISION: 2\\nNOTES:\\nOpen the app at ...\\n' ;;
  history) printf 'REVISION STATUS DESCRIPTION\\n2 failed Upgrade failed: timed out\\n' ;;
esac""",
    )
    report = suite.cluster_diagnostics()
    assert report[report.index("helm status todo-app:") + 2] == "STATUS: failed"
    assert "Open the app at ..." not in report
    assert "2 failed Upgrade failed: timed out" in report
    calls = (bin_dir / "calls").read_text()
    assert "status todo-app -n todo-app" in calls and "history todo-app -n todo-app --max 5" in calls


def test_all_pods_ready_is_said_in_one_line(logs: dict[str, Path], bin_dir: Path) -> None:
    stub(
        bin_dir,
        "kubectl",
        """case "$*" in
  *readyz*) echo ok ;;
  *"get pods"*) printf 'NAMESPACE NAME READY STATUS\\nkube-system coredns-1 1/1 Running\\n' ;;
esac""",
    )
    stub(bin_dir, "helm", 'echo "Error: release: not found" >&2; exit 1')
    report = suite.cluster_diagnostics()
    assert "pods: all 1 Ready or completed" in report
    assert not any(line.startswith("pods not Ready") for line in report)


def test_the_admin_kubeconfig_is_used_when_readable(
    logs: dict[str, Path], bin_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = tmp_path / "admin.conf"
    admin.write_text("apiVersion: v1\n")
    monkeypatch.setattr(suite, "ADMIN_KUBECONFIG", admin)
    stub(bin_dir, "kubectl", "exit 1")
    suite.cluster_diagnostics()
    assert (bin_dir / "calls").read_text().startswith(f"--kubeconfig={admin} ")


def test_unreadable_log_is_reported_not_raised(logs: dict[str, Path], bin_dir: Path) -> None:
    logs["kubelet"].mkdir()  # reading a directory fails like an unreadable file
    assert any(line.startswith("kubelet: cannot read ") for line in suite.cluster_diagnostics())


def test_diagnostics_are_capped(logs: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(suite, "cluster_state", lambda: ["x" * 1000] * 5000)
    report = suite.cluster_diagnostics()
    assert len(report) == suite.DIAGNOSTICS_MAX_LINES + 1
    assert report[-1].endswith("more lines of diagnostics left out)")
    assert max(len(line) for line in report) <= suite.LINE_WIDTH


def test_diagnostics_never_raise(logs: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> list[str]:
        raise RuntimeError("surprise")

    monkeypatch.setattr(suite, "cluster_state", broken)
    report = suite.cluster_diagnostics()
    assert report[0] == "could not read the cluster's state: RuntimeError('surprise')"
    assert f"last 30 lines of {logs['kube-apiserver']}:" in report  # the logs still come
