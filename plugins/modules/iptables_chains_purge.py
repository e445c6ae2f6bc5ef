#!/usr/bin/python
"""Remove every iptables chain whose name starts with given prefixes."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: iptables_chains_purge
short_description: Remove the iptables chains a program created, and every jump to them
description:
  - Reads each table with C(iptables-save), drops the chains whose names start with one
    of O(prefixes), the rules inside them and every rule elsewhere that jumps to them,
    and writes the table back with C(iptables-restore).
  - Chains and rules of other programs (Docker's, for instance) are written back unchanged.
  - Used to take down the local cluster, whose kubelet, kube-proxy and CNI plugins create
    C(KUBE-*) and C(CNI-*) chains.
version_added: "0.1.0"
author:
  - todo-app developers
options:
  prefixes:
    description: Chain name prefixes to remove.
    type: list
    elements: str
    required: true
  families:
    description: Which of C(iptables) and C(ip6tables) to clean.
    type: list
    elements: str
    choices: [ipv4, ipv6]
    default: [ipv4, ipv6]
  tables:
    description: Tables to clean.
    type: list
    elements: str
    default: [filter, nat, mangle, raw]
notes:
  - Supports check mode.
"""

EXAMPLES = r"""
- name: Remove the chains of kube-proxy, the kubelet and the CNI plugins
  iptables_chains_purge:
    prefixes: [KUBE-, CNI-]
"""

RETURN = r"""
removed:
  description: The chains removed, as C(family/table/chain).
  returned: always
  type: list
  elements: str
  sample: [ipv4/nat/KUBE-SERVICES, ipv4/filter/CNI-FORWARD]
"""

import shlex
from dataclasses import dataclass, field

from ansible.module_utils.basic import AnsibleModule

COMMANDS = {"ipv4": ("iptables-save", "iptables-restore"), "ipv6": ("ip6tables-save", "ip6tables-restore")}


@dataclass
class PurgedTable:
    """The text to restore and the chains that were dropped from it."""

    text: str
    removed: list[str] = field(default_factory=list)


def rule_target(line: str) -> str | None:
    """The chain a rule line jumps or goes to, if any."""
    words = shlex.split(line)
    for flag in ("-j", "--jump", "-g", "--goto"):
        if flag in words:
            index = words.index(flag)
            if index + 1 < len(words):
                return words[index + 1]
    return None


def rule_chain(line: str) -> str:
    """The chain an ``-A CHAIN ...`` line appends to."""
    return line.split()[1]


def purge_table(dump: str, prefixes: list[str]) -> PurgedTable:
    """Drop the chains named with ``prefixes`` from one ``iptables-save -t`` dump."""

    def ours(chain: str | None) -> bool:
        return chain is not None and chain.startswith(tuple(prefixes))

    kept: list[str] = []
    removed: list[str] = []
    for line in dump.splitlines():
        if line.startswith(":"):
            chain = line[1:].split()[0]
            if ours(chain):
                removed.append(chain)
                continue
        elif line.startswith("-A ") and (ours(rule_chain(line)) or ours(rule_target(line))):
            continue
        kept.append(line)
    return PurgedTable(text="\n".join(kept) + "\n", removed=removed)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "prefixes": {"type": "list", "elements": "str", "required": True},
            "families": {
                "type": "list",
                "elements": "str",
                "choices": ["ipv4", "ipv6"],
                "default": ["ipv4", "ipv6"],
            },
            "tables": {"type": "list", "elements": "str", "default": ["filter", "nat", "mangle", "raw"]},
        },
        supports_check_mode=True,
    )
    prefixes = [prefix for prefix in module.params["prefixes"] if prefix]
    if not prefixes:
        module.fail_json(msg="prefixes must name at least one non-empty chain prefix, such as KUBE-")

    removed: list[str] = []
    for family in module.params["families"]:
        save, restore = COMMANDS[family]
        save_path = module.get_bin_path(save)
        restore_path = module.get_bin_path(restore)
        if save_path is None or restore_path is None:
            continue
        for table in module.params["tables"]:
            rc, dump, _err = module.run_command([save_path, "-t", table])
            if rc != 0 or not dump.strip():
                continue
            purged = purge_table(dump, prefixes)
            if not purged.removed:
                continue
            removed.extend(f"{family}/{table}/{chain}" for chain in purged.removed)
            if module.check_mode:
                continue
            rc, _out, err = module.run_command([restore_path], data=purged.text, binary_data=True)
            if rc != 0:
                module.fail_json(
                    msg=(
                        f"{restore} refused the {table} table without the "
                        f"{', '.join(prefixes)} chains: {err.strip()}"
                    ),
                    removed=removed,
                )
    module.exit_json(changed=bool(removed), removed=removed)


if __name__ == "__main__":
    main()
