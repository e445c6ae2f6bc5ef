"""The kind node image's plan: one part per image kubeadm names, and the Go builds it needs."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from ansible.errors import AnsibleFilterError

ROOT = Path(__file__).resolve().parents[3]


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


filters = load(ROOT / "roles/kind_node_image/filter_plugins/kind_node_image.py")

KUBEADM_IMAGES = [
    "registry.k8s.io/kube-apiserver:v1.33.13",
    "registry.k8s.io/kube-proxy:v1.33.13",
    "registry.k8s.io/coredns/coredns:v1.12.0",
    "registry.k8s.io/pause:3.10",
    "registry.k8s.io/etcd:3.5.24-0",
]
RECIPES = {
    "kube-apiserver": {"source": "kubernetes", "binary": "kube-apiserver", "template": "scratch"},
    "kube-proxy": {"source": "kubernetes", "binary": "kube-proxy", "template": "kube-proxy"},
    "etcd": {"source": "go", "binary": "etcd", "template": "scratch"},
    "coredns": {"source": "go", "binary": "coredns", "template": "scratch"},
    "pause": {"source": "pause", "binary": "pause", "template": "scratch"},
}


def plan(
    images: list[str] = KUBEADM_IMAGES, sandbox: str = "registry.k8s.io/pause:3.10"
) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = filters.kind_node_image_parts(
        images, RECIPES, sandbox, "/k8s", "/cache/bin"
    )
    return parts


def test_every_kubeadm_image_becomes_a_part_named_as_kubeadm_names_it() -> None:
    parts = {part["name"]: part for part in plan()}
    assert sorted(parts) == ["coredns", "etcd", "kube-apiserver", "kube-proxy", "pause"]
    assert parts["coredns"]["targets"] == ["registry.k8s.io/coredns/coredns:v1.12.0"]
    assert parts["kube-apiserver"]["binary_src"] == "/k8s/kube-apiserver"


def test_etcd_is_built_at_the_release_its_image_tag_stands_for() -> None:
    etcd = next(part for part in plan() if part["name"] == "etcd")
    assert etcd["version"] == "v3.5.24"
    assert etcd["binary_src"] == "/cache/bin/etcd-v3.5.24/etcd"


def test_pause_is_also_named_as_containerds_sandbox_image_when_that_differs() -> None:
    pause = next(part for part in plan(sandbox="registry.k8s.io/pause:3.10.1") if part["name"] == "pause")
    assert pause["targets"] == ["registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10.1"]


def test_an_image_without_a_recipe_is_refused_with_its_name() -> None:
    with pytest.raises(
        AnsibleFilterError, match=r"registry.k8s.io/kube-scheduler:v1.33.13.*__kind_node_image_recipes"
    ):
        plan([*KUBEADM_IMAGES, "registry.k8s.io/kube-scheduler:v1.33.13"])


def test_an_untagged_image_is_refused() -> None:
    with pytest.raises(AnsibleFilterError, match="has no tag"):
        plan(["registry.k8s.io/pause"])


def test_a_sandbox_image_nothing_provides_is_refused() -> None:
    images = [image for image in KUBEADM_IMAGES if "pause" not in image]
    with pytest.raises(AnsibleFilterError, match="sandbox image"):
        plan(images)


def test_go_builds_follow_the_parts_versions_and_the_extra_ones() -> None:
    builds = {
        "etcd": {"module": "etcd", "package": "go.etcd.io/etcd/server/v3"},
        "coredns": {"package": "c"},
        "crictl": {"package": "x"},
    }
    result = filters.kind_node_image_go_builds(plan(), builds, {"crictl": "v1.34.0"})
    assert {(build["name"], build["version"]) for build in result} == {
        ("etcd", "v3.5.24"),
        ("coredns", "v1.12.0"),
        ("crictl", "v1.34.0"),
    }
    with pytest.raises(AnsibleFilterError, match="crictl"):
        filters.kind_node_image_go_builds(plan(), {"etcd": {}, "coredns": {}}, {"crictl": "v1.34.0"})
