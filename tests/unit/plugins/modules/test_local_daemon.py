"""local_daemon: recognising its own process, and starting and stopping one for real."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from pathlib import Path as _Path

_SPEC = importlib.util.spec_from_file_location(
    "local_daemon", _Path(__file__).resolve().parents[4] / "plugins" / "modules" / "local_daemon.py"
)
assert _SPEC is not None and _SPEC.loader is not None
_MODULE = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = _MODULE  # dataclasses look their module up there
_SPEC.loader.exec_module(_MODULE)
fingerprint = _MODULE.fingerprint
is_our_process = _MODULE.is_our_process
process_cmdline = _MODULE.process_cmdline
read_pid = _MODULE.read_pid
recorded_fingerprint = _MODULE.recorded_fingerprint
running_pid = _MODULE.running_pid
start = _MODULE.start
stop = _MODULE.stop


def test_read_pid_ignores_missing_and_garbled_files(tmp_path: Path) -> None:
    pidfile = tmp_path / "x.pid"
    assert read_pid(pidfile) is None
    pidfile.write_text("not-a-pid\n")
    assert read_pid(pidfile) is None
    pidfile.write_text("4242\n")
    assert read_pid(pidfile) == 4242


def test_is_our_process_compares_program_file_names() -> None:
    assert is_our_process(["/usr/bin/etcd", "--name=x"], "etcd")
    assert is_our_process(["/opt/kubelet"], "/cache/kubernetes/v1.33.13/kubelet")
    assert not is_our_process(["/usr/bin/python3", "x"], "etcd")
    assert not is_our_process(None, "etcd")


def test_fingerprint_changes_with_command_environment_and_directory() -> None:
    base = fingerprint(["etcd", "--a"], {"X": "1"}, "/")
    assert base == fingerprint(["etcd", "--a"], {"X": "1"}, "/")
    assert base != fingerprint(["etcd", "--b"], {"X": "1"}, "/")
    assert base != fingerprint(["etcd", "--a"], {"X": "2"}, "/")
    assert base != fingerprint(["etcd", "--a"], {"X": "1"}, "/tmp")


def test_recorded_fingerprint_reads_digest_and_program(tmp_path: Path) -> None:
    record = tmp_path / "x.pid.fingerprint"
    assert recorded_fingerprint(record) == ("", None)
    record.write_text("abc123 /usr/bin/etcd")
    assert recorded_fingerprint(record) == ("abc123", "/usr/bin/etcd")


def test_start_detaches_and_stop_ends_the_process(tmp_path: Path) -> None:
    log = tmp_path / "sleeper.log"
    pid = start([sys.executable, "-c", "print('up', flush=True); import time; time.sleep(60)"], {}, "/", log)
    pidfile = tmp_path / "sleeper.pid"
    pidfile.write_text(f"{pid}\n")
    deadline = time.monotonic() + 10
    while "up" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running_pid(pidfile, sys.executable) == pid
    assert running_pid(pidfile, "etcd") is None, "a PID running another program is not ours"
    stop(pid, timeout=5)
    assert process_cmdline(pid) is None
    assert running_pid(pidfile, sys.executable) is None, "a stale pidfile must not count as running"
