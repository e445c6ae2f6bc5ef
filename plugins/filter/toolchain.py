# Copyright (c) todo-app developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The toolchain's decisions over data: which platform this is, what each tool's release is on it
(URL, archive member, pinned sha256), and how each missing tool will be provided."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
---
name: toolchain_platform
short_description: The os-arch pair tool releases use (linux-amd64, darwin-arm64) for Ansible's platform facts
description:
  - Maps C(ansible_facts.system) (Linux, Darwin) and C(ansible_facts.architecture) (x86_64, amd64,
    aarch64, arm64) to the names release URLs and Go's GOOS/GOARCH use.
  - Fails naming the platform and the supported ones for anything else.
  - The same plugin file provides C(toolchain_scoped) (the specs a set of scopes needs),
    C(toolchain_releases) (each tool's URL, archive member and pinned
    sha256 on that platform), C(toolchain_plan) (how each tool will be provided) and
    C(toolchain_missing_packages) (Debian packages that dpkg does not report installed).
positional: system, architecture
options:
  _input:
    description: C(ansible_facts.system).
    type: str
    required: true
  architecture:
    description: C(ansible_facts.architecture).
    type: str
    required: true
"""

EXAMPLES = r"""
__toolchain_platform: "{{ ansible_facts.system | toolchain_platform(ansible_facts.architecture) }}"
# each tool's url, archive_member, sha256, goos and goarch on that platform
__toolchain_tools: "{{ __toolchain_specs | toolchain_releases(__toolchain_platform, __toolchain_checksums) }}"
"""

RETURN = r"""
_value:
  description: The platform, e.g. C({"os": "darwin", "arch": "arm64", "name": "darwin-arm64"}).
  type: dict
"""

# Ansible's spelling of the operating system and the CPU, and the name Go and the releases use.
SYSTEMS = {"Linux": "linux", "Darwin": "darwin"}
ARCHITECTURES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
SUPPORTED = [f"{os}-{arch}" for os in ("linux", "darwin") for arch in ("amd64", "arm64")]

# How a tool may be provided (toolchain_source).
SOURCES = ("auto", "download", "build")


def toolchain_platform(system: str, architecture: str) -> dict[str, str]:
    """The os-arch pair of a host, from its Ansible facts."""
    os = SYSTEMS.get(system)
    arch = ARCHITECTURES.get(architecture)
    if os is None or arch is None:
        raise AnsibleFilterError(
            f"This host is {system}/{architecture}; the toolchain supports {', '.join(SUPPORTED)} "
            "(Linux or macOS on x86_64/amd64 or aarch64/arm64)."
        )
    return {"os": os, "arch": arch, "name": f"{os}-{arch}"}


def toolchain_scoped(specs: Sequence[Mapping[str, Any]], scopes: Sequence[str]) -> list[Mapping[str, Any]]:
    """The specs that one of ``scopes`` needs; a spec's ``scope`` is one name or a list of names."""
    wanted = set(scopes)
    return [
        spec
        for spec in specs
        if wanted & set([spec["scope"]] if isinstance(spec["scope"], str) else spec["scope"])
    ]


def _fill(template: str, spec: Mapping[str, Any], platform: Mapping[str, str]) -> str:
    """The template with {os}, {arch} and {name} filled in (and any other brace left alone)."""
    for key, value in (("{os}", platform["os"]), ("{arch}", platform["arch"]), ("{name}", spec["name"])):
        template = template.replace(key, value)
    return template


def toolchain_releases(
    specs: Sequence[Mapping[str, Any]],
    platform: Mapping[str, str],
    checksums: Mapping[str, Mapping[str, Mapping[str, str]]],
) -> list[dict[str, Any]]:
    """Each tool as this platform gets it: its release URL and archive member filled in for the
    platform, the sha256 pinned for that version and platform ('' when none is), GOOS and GOARCH.

    A tool that does not run on the platform (the local cluster's server binaries on macOS) is an
    error naming the platforms it does run on.
    """
    releases = []
    for spec in specs:
        platforms = list(spec.get("platforms", SUPPORTED))
        if platform["name"] not in platforms:
            raise AnsibleFilterError(
                f"{spec['name']} {spec['version']} does not run on {platform['name']}; it is provided for "
                f"{', '.join(platforms)} only. {spec.get('unsupported_hint', '')}".rstrip()
            )
        pins = checksums.get(spec["name"], {}).get(spec["version"], {})
        url = _fill(spec.get("url", ""), spec, platform)
        releases.append(
            {
                **spec,
                "platform": platform["name"],
                "goos": platform["os"],
                "goarch": platform["arch"],
                "path": _fill(spec.get("path", ""), spec, platform),
                "url": url,
                "checksum_url": _fill(spec.get("checksum_url", ""), spec, platform) if url else "",
                "archive_member": _fill(spec.get("archive_member", ""), spec, platform),
                "sha256": str(pins.get(platform["name"], "")).lower() if url else "",
            }
        )
    return releases


def _pin_hint(tool: Mapping[str, Any]) -> str:
    return (
        f"To download it, add the sha256 its project publishes ({tool['checksum_url']}) as "
        f"toolchain_checksums: {{{tool['name']}: {{{tool['version']}: {{{tool['platform']}: <sha256>}}}}}} "
        "(or to __toolchain_checksums in roles/toolchain/vars/main.yml, with where it was taken from)"
    )


def toolchain_plan(
    tools: Sequence[Mapping[str, Any]],
    present: Sequence[str],
    installed: Mapping[str, str],
    source: str,
) -> list[dict[str, Any]]:
    """How each tool will be provided: ``keep`` (already at its path), ``link`` (a copy at the
    pinned version on PATH, given in ``installed``), ``download`` (a release with a pinned sha256)
    or ``build`` (from its Go module). ``reason`` says why a tool is built, ``why`` is
    ``name (reason)``.

    Nothing is downloaded without a pinned sha256: with ``source`` download, a tool that has no
    pinned release for the platform is an error that says how to add the pin.
    """
    if source not in SOURCES:
        raise AnsibleFilterError(f"toolchain_source is {source!r}; expected one of {', '.join(SOURCES)}.")
    planned = []
    refused = []
    for tool in tools:
        name = tool["name"]
        action, reason = "build", ""
        if name in present:
            action = "keep"
        elif name in installed:
            action = "link"
        elif source == "build":
            reason = "toolchain_source is build"
        elif not tool["url"]:
            reason = "it has no release download"
            if source == "download":
                refused.append(
                    f"{name} {tool['version']} has no release download; toolchain_source=download "
                    "cannot provide it (use auto or build)."
                )
        elif not tool["sha256"]:
            reason = f"no sha256 is pinned for its {tool['platform']} release"
            if source == "download":
                refused.append(
                    f"{name} {tool['version']} for {tool['platform']} has no pinned sha256, and nothing is "
                    f"downloaded unverified. {_pin_hint(tool)}; or let it be built from source "
                    "(toolchain_source=auto or build)."
                )
        else:
            action = "download"
        why = f"{name} ({reason})" if reason else name
        planned.append({**tool, "action": action, "reason": reason, "why": why})
    if refused:
        raise AnsibleFilterError(" ".join(refused))
    return planned


def toolchain_installed(results: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Tool name -> path of a copy on PATH at the pinned version, from the registered results of the
    probe that runs ``<name> <version_args> | head -n 1`` and then prints the path: a tool counts
    when the probe succeeded and its first line matches the tool's ``version_pattern``."""
    found = {}
    for result in results:
        tool = result.get("item", {})
        lines = result.get("stdout_lines") or []
        if result.get("rc") == 0 and len(lines) == 2 and re.search(tool["version_pattern"], lines[0]):
            found[tool["name"]] = lines[1]
    return found


def toolchain_missing_packages(wanted: Sequence[str], dpkg_lines: Sequence[str]) -> list[str]:
    """The packages of ``wanted`` that ``dpkg-query --show --showformat='${Package} ${db:Status-Abbrev}\\n'``
    does not report installed (``ii``), in the order asked, each once."""
    installed = set()
    for line in dpkg_lines:
        fields = line.split()
        if len(fields) >= 2 and fields[1] == "ii":
            installed.add(fields[0].split(":")[0])  # dpkg names a foreign-architecture package pkg:arch
    return list(dict.fromkeys(name for name in wanted if name not in installed))


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "toolchain_platform": toolchain_platform,
            "toolchain_scoped": toolchain_scoped,
            "toolchain_releases": toolchain_releases,
            "toolchain_plan": toolchain_plan,
            "toolchain_installed": toolchain_installed,
            "toolchain_missing_packages": toolchain_missing_packages,
        }
