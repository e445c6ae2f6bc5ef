# Copyright (c) todo-app developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which images a kind node image preloads, and where each one's binary comes from."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

# Sources of a recipe's binary: the Kubernetes binaries directory, or this role's build cache.
SOURCES = ("kubernetes", "go", "pause")


def split_image(ref: str) -> tuple[str, str]:
    """Return the last path element and the tag of an image reference (no digest allowed)."""
    if "@" in ref:
        raise AnsibleFilterError(
            f"image {ref!r} is named by digest; a node image preloads tagged images only"
        )
    repository, sep, tag = ref.rpartition(":")
    if not sep or "/" in tag or not repository:
        raise AnsibleFilterError(f"image {ref!r} has no tag; expected REPOSITORY:TAG")
    return repository.rsplit("/", 1)[-1], tag


def source_version(name: str, tag: str) -> str:
    """The source version an image tag stands for: etcd's 3.5.24-0 is etcd v3.5.24."""
    if name == "etcd":
        return "v" + tag.split("-", 1)[0]
    return tag


def kind_node_image_parts(
    images: list[str],
    recipes: dict[str, dict[str, Any]],
    sandbox_image: str,
    kubernetes_dir: str,
    bin_cache: str,
    extra: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Plan one part per image `kubeadm config images list` names, then the extra ones.

    Every part has its name, tag, source version, the references the node's containerd must
    hold (`targets`: kubeadm's, and for pause also containerd's sandbox image) and the path of
    its binary (`binary_src`).
    """
    if not images:
        raise AnsibleFilterError("kubeadm listed no images; check `kubeadm config images list` on this host")
    parts: list[dict[str, Any]] = []
    for ref in images:
        name, tag = split_image(ref)
        recipe = recipes.get(name)
        if recipe is None:
            raise AnsibleFilterError(
                f"kubeadm names the image {ref}, which the node image has no recipe for; "
                f"add {name!r} to __kind_node_image_recipes (known: {', '.join(sorted(recipes))})"
            )
        if recipe.get("source") not in SOURCES:
            raise AnsibleFilterError(
                f"recipe {name!r} has source {recipe.get('source')!r}; expected one of {', '.join(SOURCES)}"
            )
        version = source_version(name, tag)
        targets = [ref]
        if name == "pause" and sandbox_image and sandbox_image != ref:
            targets.append(sandbox_image)
        if recipe["source"] == "kubernetes":
            binary_src = f"{kubernetes_dir}/{recipe['binary']}"
        else:
            binary_src = f"{bin_cache}/{name}-{version}/{recipe['binary']}"
        parts.append(
            {
                **recipe,
                "name": name,
                "tag": tag,
                "version": version,
                "targets": targets,
                "binary_src": binary_src,
            }
        )
    if sandbox_image and not any(sandbox_image in part["targets"] for part in parts):
        raise AnsibleFilterError(
            f"containerd's sandbox image {sandbox_image} is not among kubeadm's images and has no pause part"
        )
    for part in extra or []:
        missing = {"name", "tag", "targets", "binary", "binary_src", "template"} - set(part)
        if missing:
            raise AnsibleFilterError(
                f"extra part {part.get('name', part)!r} lacks {', '.join(sorted(missing))}"
            )
        parts.append({**part, "version": part.get("version", part["tag"])})
    return parts


def kind_node_image_go_builds(
    parts: list[dict[str, Any]], builds: dict[str, dict[str, Any]], versions: dict[str, str]
) -> list[dict[str, Any]]:
    """The Go builds: one per part whose source is `go`, at its version, then those in `versions`."""
    wanted = {part["name"]: part["version"] for part in parts if part.get("source") == "go"}
    wanted.update(versions)
    result = []
    for name, version in wanted.items():
        if name not in builds:
            raise AnsibleFilterError(f"no Go build is declared for {name!r} in __kind_node_image_go_builds")
        result.append({**builds[name], "name": name, "version": version})
    return result


class FilterModule:
    """The node image's planning filters."""

    def filters(self) -> dict[str, Any]:
        return {
            "kind_node_image_parts": kind_node_image_parts,
            "kind_node_image_go_builds": kind_node_image_go_builds,
        }
