"""The toolchain role against a scratch cache, with no cluster and no network beyond loopback:
prerequisites refused before anything changes (no Go, Debian packages a user who is not root
cannot install), a Go build that honours the platform and finds Go outside PATH, and a release
download kept only when it matches its pinned sha256. The user's own cache is never touched."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import os
import platform
import pwd
import shutil
import site
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import BIN_DIR, REPO, Run

NON_ROOT_USER = "nobody"
RUNUSER = shutil.which("runuser", path="/usr/sbin:/sbin:/usr/bin:/bin") or ""
HOST_PLATFORM = {"x86_64": "linux-amd64", "aarch64": "linux-arm64"}.get(platform.machine(), "")
# What a ``helm version --short`` of the pinned release prints.
HELM_STUB = "#!/bin/sh\necho v3.19.0+gstub\n"
# The same, with more after the version line than a pipe holds (as coredns -version prints a
# second line): a probe that cuts the output with `| head -n 1` under pipefail misses it.
HELM_CHATTY_STUB = "#!/bin/sh\necho v3.19.0+gstub\nyes build-detail | head -n 20000\n"
# A stand-in Go: "builds" each asked binary as a script that prints the platform it was built for,
# and answers `go list -m` with a module directory holding helm-diff's plugin manifest.
GO_STUB = r"""#!/bin/bash
set -eu
echo "$* GOOS=${GOOS:-} GOARCH=${GOARCH:-} CGO_ENABLED=${CGO_ENABLED:-}" >> "$STUB_LOG"
make() { mkdir -p "$(dirname "$1")"; printf '#!/bin/sh\necho v3.19.0+gstub %s/%s\n' "$GOOS" "$GOARCH" > "$1"; chmod +x "$1"; }
case "$1" in
  install) pkg="${@: -1}"; pkg="${pkg%@*}"; make "$GOBIN/$(basename "$pkg")" ;;
  build)
    out=""; prev=""
    for arg in "$@"; do [ "$prev" = "-o" ] && out="$arg"; prev="$arg"; done
    for arg in "$@"; do case "$arg" in
      k8s.io/*) make "$out$(basename "$arg")" ;;
      tool) make "${out}helm-diff" ;;
    esac; done ;;
  list) mkdir -p "$STUB_MODULE"; printf 'name: diff\nversion: "3.9.11"\n' > "$STUB_MODULE/plugin.yaml"
        printf '{"Dir": "%s"}\n' "$STUB_MODULE" ;;
esac
"""


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A directory outside pytest's (root-only) tmp tree, so the user who is not root can use it."""
    path = Path(tempfile.mkdtemp(prefix="todo-toolchain-test-"))
    (path / "home").mkdir()
    path.chmod(0o755)
    if os.geteuid() == 0:
        user = pwd.getpwnam(NON_ROOT_USER)
        for entry in [path, *path.rglob("*")]:
            os.chown(entry, user.pw_uid, user.pw_gid)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def write_executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


def toolchain(
    scratch: Path,
    *args: str,
    as_non_root: bool = False,
    path: str = "/usr/bin:/bin",
    env: dict[str, str] | None = None,
    playbook: str = "playbooks/toolchain.yml",
) -> Run:
    """``playbook`` (playbooks/toolchain.yml) with its cache, helm plugins and HOME in ``scratch``, PATH without
    Go (unless ``path`` adds it), no Docker engine to manage and no package list of its own."""
    environment = {
        "HOME": str(scratch / "home"),
        "XDG_CACHE_HOME": str(scratch / "cache"),
        "HELM_PLUGINS": str(scratch / "plugins"),
        "PATH": path,
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_REMOTE_TEMP": str(scratch / "home" / ".ansible" / "tmp"),
        **(env or {}),
    }
    # An inventory of localhost alone and a stand-in vault client: the role reads no secret, and
    # HOME is the scratch one, where the real vault password is not.
    (scratch / "hosts.yml").write_text(
        json.dumps(
            {
                "all": {
                    "hosts": {
                        "localhost": {
                            "ansible_connection": "local",
                            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                        }
                    }
                }
            }
        )
    )
    vault = write_executable(scratch / "vault-client.sh", "#!/bin/sh\necho unused\n")
    environment |= {
        "ANSIBLE_INVENTORY": str(scratch / "hosts.yml"),
        "ANSIBLE_VAULT_IDENTITY_LIST": f"todo@{vault}",
    }
    command = [
        str(BIN_DIR / "ansible-playbook"),
        playbook,
        "-e",
        "toolchain_docker_manage=false",
        *args,
    ]
    if as_non_root and os.geteuid() == 0:
        # The venv's interpreter may live where only root reads (pyenv under /root): run ansible
        # with the system Python 3 on the venv's packages.
        environment["PYTHONPATH"] = site.getsitepackages()[0]
        command = [
            RUNUSER,
            "-u",
            NON_ROOT_USER,
            "--",
            "env",
            "-i",
            *(f"{k}={v}" for k, v in environment.items()),
            "/usr/bin/python3",
            *command,
        ]
        environment = {"PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        command,
        cwd=REPO,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
        check=False,
    )
    return Run(proc.returncode, proc.stdout)


def built(log_lines: list[str]) -> list[str]:
    """The binaries the stand-in Go was asked to build, from its log."""
    names = []
    for line in log_lines:
        for arg in line.split(" GOOS=")[0].split():
            if "@" in arg or arg.startswith("k8s.io/kubernetes/cmd/"):
                names.append(arg.split("@")[0].rsplit("/", 1)[-1])
    return names


def created(scratch: Path) -> list[str]:
    """What a run left in the scratch cache and plugins directories."""
    return sorted(
        str(p.relative_to(scratch)) for root in ("cache", "plugins") for p in (scratch / root).rglob("*")
    )


needs_non_root = pytest.mark.skipif(
    os.geteuid() == 0 and not (RUNUSER and Path("/usr/bin/python3").exists()),
    reason="no runuser and system Python to run ansible as a user who is not root",
)


@needs_non_root
def test_a_build_without_go_is_refused_before_anything_changes(scratch: Path) -> None:
    run = toolchain(
        scratch,
        "-e",
        "toolchain_source=build",
        "-e",
        '{"toolchain_go_search_dirs": [], "toolchain_os_packages": []}',
        as_non_root=True,
    )
    assert run.returncode != 0
    assert "needs the Go toolchain, and no `go` was found: looked on PATH (/usr/bin:/bin)" in run.output
    assert "toolchain_go_search_dirs (none)" in run.output
    for tool in ("helm (toolchain_source is build)", "kubectl (toolchain_source is build)", "helm-diff"):
        assert tool in run.output
    assert "Install Go 1.24 or newer" in run.output
    assert "Errno 2" not in run.output
    assert created(scratch) == []


@needs_non_root
def test_missing_debian_packages_are_named_with_the_sudo_command_before_anything_changes(
    scratch: Path,
) -> None:
    run = toolchain(
        scratch, "-e", '{"toolchain_extra_packages": ["todo-app-absent-package"]}', as_non_root=True
    )
    assert run.returncode != 0
    assert "These Debian packages are missing: todo-app-absent-package." in run.output
    assert "`sudo apt-get install -y --no-install-recommends todo-app-absent-package`" in run.output
    assert created(scratch) == []


@pytest.mark.skipif(not HOST_PLATFORM, reason="not a linux amd64/arm64 host")
def test_a_go_build_finds_go_outside_path_honours_the_platform_and_the_next_run_changes_nothing(
    scratch: Path,
) -> None:
    go_dir = scratch / "go" / "bin"
    write_executable(go_dir / "go", GO_STUB)
    log = scratch / "go.log"
    args = (
        "-e",
        "toolchain_source=build",
        "-e",
        json.dumps({"toolchain_go_search_dirs": [str(go_dir)], "toolchain_os_packages": []}),
    )
    env = {"STUB_LOG": str(log), "STUB_MODULE": str(scratch / "module")}

    first = toolchain(scratch, *args, env=env)
    assert first.returncode == 0, first.output[-4000:]
    os_name, arch = HOST_PLATFORM.split("-")
    builds = log.read_text().splitlines()
    assert len(builds) == 4, builds  # helm, kubectl, helm-diff, and helm-diff's module lookup
    assert all(f"GOOS={os_name} GOARCH={arch}" in line for line in builds if " list " not in f" {line}")
    assert any(line.startswith("install ") and "helm.sh/helm/v3/cmd/helm@v3.19.0" in line for line in builds)
    assert any(
        line.startswith("build ") and line.split(" GOOS=")[0].endswith("k8s.io/kubernetes/cmd/kubectl")
        for line in builds
    )
    bin_dir = scratch / "cache" / "todo-app" / "bin"
    assert sorted(p.name for p in bin_dir.iterdir()) == ["helm", "kubectl"], (
        "a client-only run provides no provider tools"
    )
    assert (
        subprocess.run([bin_dir / "kubectl"], capture_output=True, text=True, check=True).stdout.split()[-1]
        == f"{os_name}/{arch}"
    )
    assert (scratch / "plugins" / "diff" / "bin" / "diff").exists()

    again = toolchain(scratch, *args, env=env)
    assert again.returncode == 0, again.output[-4000:]
    assert again.recap()["changed"] == 0
    assert "Checking the toolchain" not in again.output, "the stamp must answer a run that changes nothing"
    assert len(log.read_text().splitlines()) == 4, "nothing is built twice"


@pytest.fixture
def release_server(scratch: Path) -> Iterator[tuple[str, bytes]]:
    """Serves a stand-in kubectl release at http://127.0.0.1:<port>/<os>/<arch>/kubectl."""
    body = b"#!/bin/sh\necho served kubectl\n"
    root = scratch / "served"
    write_executable(root / HOST_PLATFORM.replace("-", "/") / "kubectl", body.decode())
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{{os}}/{{arch}}", body
    server.shutdown()
    server.server_close()


@pytest.mark.skipif(not HOST_PLATFORM, reason="not a linux amd64/arm64 host")
@pytest.mark.parametrize("helm_stub", [HELM_STUB, HELM_CHATTY_STUB], ids=["one-line", "chatty"])
def test_a_download_is_kept_only_when_it_matches_its_pinned_sha256(
    scratch: Path, release_server: tuple[str, bytes], helm_stub: str
) -> None:
    url, body = release_server
    stubs = scratch / "stubs"
    write_executable(stubs / "helm", helm_stub)  # an installed helm at the pinned version is used as it is
    (scratch / "plugins" / "diff" / "bin").mkdir(parents=True)
    (scratch / "plugins" / "diff" / "plugin.yaml").write_text('name: diff\nversion: "3.9.11"\n')
    write_executable(scratch / "plugins" / "diff" / "bin" / "diff", "#!/bin/sh\n")

    def download(pin: str) -> Run:
        settings = {
            "toolchain_source": "download",
            "toolchain_kubernetes_download_url": url,
            "toolchain_checksums": {"kubectl": {"v1.33.13": {HOST_PLATFORM: pin}}},
            "toolchain_os_packages": [],
            "toolchain_go_search_dirs": [],
        }
        return toolchain(scratch, "-e", json.dumps(settings), path=f"{stubs}:/usr/bin:/bin")

    kubectl = scratch / "cache" / "todo-app" / "kubernetes" / "v1.33.13" / "kubectl"
    wrong = download("0" * 64)
    assert wrong.returncode != 0
    assert "checksum" in wrong.output.lower() and "0" * 64 in wrong.output, wrong.output[-5000:]
    assert not kubectl.exists(), "a download that does not match its pin must not be kept"

    right = download(hashlib.sha256(body).hexdigest())
    assert right.returncode == 0, right.output[-4000:]
    assert kubectl.read_bytes() == body
    assert (scratch / "cache" / "todo-app" / "bin" / "helm").resolve() == (stubs / "helm").resolve()


def test_a_download_with_no_pinned_sha256_is_refused_saying_how_to_pin_it(scratch: Path) -> None:
    run = toolchain(scratch, "-e", "toolchain_source=download", "-e", "toolchain_kubernetes_version=v1.33.99")
    assert run.returncode != 0
    assert "kubectl v1.33.99 for" in run.output and "has no pinned sha256" in run.output
    assert "/kubectl.sha256) as toolchain_checksums: {kubectl: {v1.33.99:" in run.output
    assert created(scratch) == []


@pytest.mark.skipif(not HOST_PLATFORM, reason="not a linux amd64/arm64 host")
@pytest.mark.parametrize(
    ("provider", "tools"),
    [
        ("kind", ["kind"]),
        (
            "local",
            [
                "coredns",
                "local-path-provisioner",
                "registry",
                "kube-apiserver",
                "kube-controller-manager",
                "kube-scheduler",
                "kubelet",
                "kube-proxy",
            ],
        ),
    ],
)
def test_the_provider_entry_point_provides_that_providers_tools_only_once(
    scratch: Path, provider: str, tools: list[str]
) -> None:
    """What the cluster role calls once cluster_provider=auto has chosen."""
    go_dir = scratch / "go" / "bin"
    write_executable(go_dir / "go", GO_STUB)
    log = scratch / "go.log"
    play = scratch / "provider.yml"
    play.write_text(
        json.dumps(
            [
                {
                    "name": "Provide one provider's tools",
                    "hosts": "localhost",
                    "gather_facts": True,
                    "gather_subset": ["min"],
                    "tasks": [
                        {
                            "name": "Provide the tools",
                            "ansible.builtin.include_role": {"name": "toolchain", "tasks_from": "provider"},
                            "vars": {"toolchain_cluster_provider": provider},
                        }
                    ],
                }
            ]
        )
    )
    settings = {
        "toolchain_source": "build",
        "toolchain_go_search_dirs": [str(go_dir)],
        "toolchain_local_packages": [],
    }
    env = {"STUB_LOG": str(log), "STUB_MODULE": str(scratch / "module")}

    first = toolchain(scratch, "-e", json.dumps(settings), env=env, playbook=str(play))
    assert first.returncode == 0, first.output[-4000:]
    builds = log.read_text().splitlines()
    assert sorted(built(builds)) == sorted(tools)
    os_name, arch = HOST_PLATFORM.split("-")
    assert all(f"GOOS={os_name} GOARCH={arch}" in line for line in builds)
    cache = scratch / "cache" / "todo-app"
    assert (cache / "state" / f"toolchain-{provider}.json").exists()
    assert not (cache / "state" / "toolchain.json").exists(), "the provider's stamp is its own"
    assert not (scratch / "plugins" / "diff").exists(), "helm-diff is a client tool"
    assert not (cache / "kubernetes" / "v1.33.13" / "kubectl").exists(), "kubectl is a client tool"

    again = toolchain(scratch, "-e", json.dumps(settings), env=env, playbook=str(play))
    assert again.returncode == 0, again.output[-4000:]
    assert again.recap()["changed"] == 0
    assert log.read_text().splitlines() == builds, "nothing is built twice"
