"""The toolchain filters over the platform matrix: the platform a host's facts name, every tool's
release URL, archive member and pinned sha256 on linux/darwin x amd64/arm64 (from the role's own
vars, rendered by Ansible's templar), the tools each cluster provider gets, and how a missing
tool is provided (never an unpinned download)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.errors import AnsibleError
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import filter_loader
from ansible.template import Templar, trust_as_template

from .conftest import PLUGINS, load_filter

toolchain = load_filter("toolchain")
ROLE = PLUGINS.parent / "roles" / "toolchain"
PLATFORMS = {
    ("Linux", "x86_64"): "linux-amd64",
    ("Linux", "aarch64"): "linux-arm64",
    ("Darwin", "x86_64"): "darwin-amd64",
    ("Darwin", "arm64"): "darwin-arm64",
}
SERVER = ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy"]
SHA256 = re.compile(r"^[0-9a-f]{64}$")

filter_loader.add_directory(str(PLUGINS / "filter"))


def _trusted(value: Any) -> Any:
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return {key: _trusted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_trusted(item) for item in value]
    return value


def role_value(expression: str, system: str = "Linux", architecture: str = "x86_64", **overrides: Any) -> Any:
    """``expression`` templated over the role's defaults and vars on a host with those facts."""
    variables: dict[str, Any] = {}
    for name in ("defaults", "vars"):
        variables.update(_trusted(yaml.safe_load((ROLE / name / "main.yml").read_text())))
    variables.update(
        toolchain_cache_dir="/cache",
        ansible_facts={
            "system": system,
            "architecture": architecture,
            "os_family": "Debian",
            "env": {"PATH": "/usr/bin"},
        },
    )
    variables.update(overrides)
    return Templar(loader=DataLoader(), variables=variables).template(trust_as_template(expression))


def releases(
    system: str, architecture: str, provider: str = "local", **overrides: Any
) -> dict[str, dict[str, Any]]:
    tools = role_value(
        "{{ __toolchain_tools + __toolchain_kubernetes_tools }}",
        system,
        architecture,
        toolchain_cluster_provider=provider,
        **overrides,
    )
    return {tool["name"]: tool for tool in tools}


@pytest.mark.parametrize(("facts", "name"), PLATFORMS.items())
def test_the_facts_of_each_supported_host_name_its_release_platform(
    facts: tuple[str, str], name: str
) -> None:
    platform = toolchain.toolchain_platform(*facts)
    assert platform["name"] == name
    assert f"{platform['os']}-{platform['arch']}" == name


def test_amd64_as_freebsd_and_macos_spell_it_is_amd64() -> None:
    assert toolchain.toolchain_platform("Linux", "amd64")["arch"] == "amd64"


@pytest.mark.parametrize("facts", [("Linux", "ppc64le"), ("Windows", "x86_64"), ("Linux", "armv7l")])
def test_an_unsupported_host_is_refused_naming_it_and_the_supported_platforms(facts: tuple[str, str]) -> None:
    with pytest.raises(AnsibleError) as error:
        toolchain.toolchain_platform(*facts)
    message = str(error.value)
    assert f"{facts[0]}/{facts[1]}" in message
    for name in PLATFORMS.values():
        assert name in message


@pytest.mark.parametrize(("facts", "name"), PLATFORMS.items())
def test_every_client_release_is_the_platforms_own_and_pinned(facts: tuple[str, str], name: str) -> None:
    os, arch = name.split("-")
    tools = releases(*facts, provider="kind")
    helm, kind, kubectl = tools["helm"], tools["kind"], tools["kubectl"]
    assert helm["url"] == f"https://get.helm.sh/helm-v3.19.0-{name}.tar.gz"
    assert helm["archive_member"] == f"{name}/helm"
    assert kind["url"] == f"https://kind.sigs.k8s.io/dl/v0.30.0/kind-{name}"
    assert kubectl["url"] == f"https://dl.k8s.io/release/v1.33.13/bin/{os}/{arch}/kubectl"
    assert kubectl["checksum_url"] == kubectl["url"] + ".sha256"
    for tool in (helm, kind, kubectl):
        assert SHA256.match(tool["sha256"]), (tool["name"], name)
        assert (tool["goos"], tool["goarch"]) == (os, arch)


def test_each_platform_has_its_own_pin() -> None:
    pins = role_value("{{ __toolchain_checksums }}")
    for tool, versions in pins.items():
        for version, by_platform in versions.items():
            assert set(by_platform) <= set(PLATFORMS.values()), (tool, version)
            assert all(SHA256.match(value) for value in by_platform.values()), (tool, version)
            assert len(set(by_platform.values())) == len(by_platform), f"{tool} {version} repeats a pin"


@pytest.mark.parametrize("facts", [("Linux", "x86_64"), ("Linux", "aarch64")])
def test_the_local_clusters_binaries_are_for_linux_and_unpinned_ones_carry_no_checksum(
    facts: tuple[str, str],
) -> None:
    tools = releases(*facts)
    assert SHA256.match(tools["kubelet"]["sha256"])
    for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy"):
        assert tools[name]["sha256"] == ""
        assert tools[name]["path"] == f"/cache/kubernetes/v1.33.13/{name}"
    assert tools["coredns"]["url"] == "" and tools["coredns"]["sha256"] == ""


@pytest.mark.parametrize("architecture", ["x86_64", "arm64"])
def test_the_local_cluster_on_macos_is_refused_naming_where_it_runs(architecture: str) -> None:
    with pytest.raises(AnsibleError) as error:
        releases("Darwin", architecture, provider="local")
    message = str(error.value)
    assert f"darwin-{'amd64' if architecture == 'x86_64' else 'arm64'}" in message
    assert "linux-amd64, linux-arm64" in message
    assert "Docker Desktop" in message


@pytest.mark.parametrize(
    ("provider", "extra"),
    [
        ("auto", []),
        ("existing", []),
        ("docker-desktop", []),
        ("kind", ["kind"]),
        ("local", ["coredns", "local-path-provisioner", "registry", *SERVER]),
        ("node", ["kubeadm", "local-path-provisioner", *SERVER]),
    ],
)
def test_each_provider_gets_the_client_tools_and_only_its_own(provider: str, extra: list[str]) -> None:
    assert sorted(releases("Linux", "x86_64", provider=provider)) == sorted(["helm", "kubectl", *extra])
    packages = role_value("{{ __toolchain_packages }}", toolchain_cluster_provider=provider)
    assert ("containerd" in packages) == (provider == "local")


def test_the_provider_entry_point_provides_only_the_providers_tools() -> None:
    tools = role_value(
        "{{ (__toolchain_tools + __toolchain_kubernetes_tools) | map(attribute='name') | list }}",
        toolchain_cluster_provider="local",
        __toolchain_entry="provider",
    )
    assert sorted(tools) == sorted(["coredns", "local-path-provisioner", "registry", *SERVER])
    assert (
        role_value(
            "{{ __toolchain_helm_diff }}", toolchain_cluster_provider="kind", __toolchain_entry="provider"
        )
        is False
    )
    assert role_value(
        "{{ __toolchain_stamp_path }}", toolchain_cluster_provider="kind", __toolchain_entry="provider"
    ) == ("/cache/state/toolchain-kind.json")


def test_a_spec_whose_scope_is_a_list_belongs_to_each_scope_it_names() -> None:
    specs = [
        {"name": "a", "scope": "local"},
        {"name": "b", "scope": ["local", "node"]},
        {"name": "c", "scope": "kind"},
    ]
    assert [spec["name"] for spec in toolchain.toolchain_scoped(specs, ["node"])] == ["b"]
    assert [spec["name"] for spec in toolchain.toolchain_scoped(specs, ["client", "local"])] == ["a", "b"]
    assert toolchain.toolchain_scoped(specs, ["existing"]) == []


def test_pins_belong_to_one_version_and_toolchain_checksums_adds_more() -> None:
    other = releases("Linux", "x86_64", toolchain_helm_version="v3.19.1")["helm"]
    assert other["url"].endswith("helm-v3.19.1-linux-amd64.tar.gz") and other["sha256"] == ""
    pin = "ab" * 32
    added = releases(
        "Linux", "x86_64", toolchain_checksums={"kube-proxy": {"v1.33.13": {"linux-amd64": pin.upper()}}}
    )
    assert added["kube-proxy"]["sha256"] == pin
    assert SHA256.match(added["kubelet"]["sha256"]), "adding a pin must keep the role's own"


def tool(name: str, sha256: str = "", url: str = "https://example.invalid/x") -> dict[str, Any]:
    return {
        "name": name,
        "version": "v1",
        "platform": "linux-arm64",
        "url": url,
        "checksum_url": f"{url}.sha256" if url else "",
        "sha256": sha256,
        "version_pattern": "^v1$",
    }


def test_a_tool_is_kept_linked_downloaded_or_built() -> None:
    tools = [
        tool("cached"),
        tool("onpath"),
        tool("pinned", sha256="0" * 64),
        tool("unpinned"),
        tool("sourceonly", url=""),
    ]
    plan = {
        t["name"]: t
        for t in toolchain.toolchain_plan(tools, ["cached"], {"onpath": "/usr/bin/onpath"}, "auto")
    }
    assert {name: t["action"] for name, t in plan.items()} == {
        "cached": "keep",
        "onpath": "link",
        "pinned": "download",
        "unpinned": "build",
        "sourceonly": "build",
    }
    assert plan["unpinned"]["why"] == "unpinned (no sha256 is pinned for its linux-arm64 release)"
    assert plan["sourceonly"]["reason"] == "it has no release download"


def test_build_builds_even_what_could_be_downloaded() -> None:
    [planned] = toolchain.toolchain_plan([tool("pinned", sha256="0" * 64)], [], {}, "build")
    assert (planned["action"], planned["reason"]) == ("build", "toolchain_source is build")


def test_download_refuses_an_unpinned_release_saying_how_to_pin_it() -> None:
    with pytest.raises(AnsibleError) as error:
        toolchain.toolchain_plan([tool("unpinned"), tool("helmlike", sha256="0" * 64)], [], {}, "download")
    message = str(error.value)
    assert "unpinned v1 for linux-arm64 has no pinned sha256" in message
    assert "https://example.invalid/x.sha256" in message
    assert "toolchain_checksums: {unpinned: {v1: {linux-arm64: <sha256>}}}" in message
    assert "helmlike" not in message


def test_download_refuses_a_tool_that_has_only_a_source_build() -> None:
    with pytest.raises(AnsibleError, match="sourceonly v1 has no release download"):
        toolchain.toolchain_plan([tool("sourceonly", url="")], [], {}, "download")


def test_an_unknown_source_is_refused() -> None:
    with pytest.raises(AnsibleError, match="expected one of auto, download, build"):
        toolchain.toolchain_plan([], [], {}, "fetch")


def test_only_a_copy_at_the_pinned_version_counts_as_installed() -> None:
    results = [
        {"item": {"name": "a", "version_pattern": "^v1$"}, "rc": 0, "stdout_lines": ["v1", "/usr/bin/a"]},
        {"item": {"name": "b", "version_pattern": "^v1$"}, "rc": 0, "stdout_lines": ["v2", "/usr/bin/b"]},
        {"item": {"name": "c", "version_pattern": "^v1$"}, "rc": 1, "stdout_lines": []},
        {"item": {"name": "d", "version_pattern": "^v1$"}, "skipped": True},
    ]
    assert toolchain.toolchain_installed(results) == {"a": "/usr/bin/a"}


def test_missing_packages_are_those_dpkg_does_not_report_installed() -> None:
    lines = ["gcc ii ", "etcd-server un ", "libc6-dev:amd64 ii "]
    wanted = ["gcc", "etcd-server", "libc6-dev", "socat", "socat"]
    assert toolchain.toolchain_missing_packages(wanted, lines) == ["etcd-server", "socat"]


def test_the_role_vars_name_no_tool_the_filters_do_not_resolve() -> None:
    """Every spec carries what toolchain_releases needs, so a new tool cannot skip its platform check."""
    specs = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())["__toolchain_specs"]
    for spec in specs:
        assert {"name", "path", "scope", "version"} <= set(spec), spec["name"]
        scopes = [spec["scope"]] if isinstance(spec["scope"], str) else spec["scope"]
        assert scopes, spec["name"]
        assert set(scopes) <= {"client", "kind", "local", "node"}, spec["name"]
        assert Path(spec["path"].replace("{name}", spec["name"])).name == spec["name"]
