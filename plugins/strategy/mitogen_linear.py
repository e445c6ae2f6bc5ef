"""The linear strategy on Mitogen (requirements.lock), named here so ansible.cfg needs no path into
the virtualenv: each task runs in a Python interpreter Mitogen keeps for the whole run instead of a
new one per module, which halves a run made of quick checks (a no-op site.yml).

Without Mitogen importable (an Ansible outside the project's virtualenv) the run goes on with the
builtin linear strategy and says so once; ANSIBLE_STRATEGY=linear chooses that on purpose."""

from __future__ import annotations

from ansible.utils.display import Display

try:
    from ansible_mitogen.plugins.strategy.mitogen_linear import StrategyModule
except ImportError as error:
    Display().warning(
        f"Mitogen is not importable ({error}); running with the linear strategy. "
        "`make venv` installs it into the project's virtualenv."
    )
    from ansible.plugins.strategy.linear import StrategyModule

__all__ = ["StrategyModule"]
