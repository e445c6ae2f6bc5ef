"""`helm lint --strict` passes for the defaults and for every example values file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from chart_helpers import CHART_DIR, EXAMPLES_DIR, JWT, KUBE_VERSION, REPO_ROOT, run_helm

EXAMPLES = sorted(EXAMPLES_DIR.glob("*.yaml"))


def lint(*args: str) -> None:
    result = run_helm(["lint", "--strict", str(CHART_DIR), "--kube-version", KUBE_VERSION, *args])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout
    assert "[WARNING]" not in result.stdout and "[ERROR]" not in result.stdout, result.stdout


def test_defaults_lint_strict(helm: str) -> None:
    lint("--set", JWT)


def test_examples_exist() -> None:
    assert {path.stem for path in EXAMPLES} >= {
        "external-database",
        "production-ha",
        "existing-secret",
        "clusterip",
    }


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.stem)
def test_example_lints_strict(helm: str, example: Path) -> None:
    needs_secret = "existingSecret" not in example.read_text()
    lint("--values", str(example), *(["--set", JWT] if needs_secret else []))


def test_plain_yaml_files_pass_yamllint() -> None:
    """values.yaml, Chart.yaml and the examples are plain YAML (templates are not)."""
    yamllint = Path(sys.executable).with_name("yamllint")
    files = [CHART_DIR / "values.yaml", CHART_DIR / "Chart.yaml", *EXAMPLES]
    result = subprocess.run(
        [str(yamllint), "--strict", "-c", str(REPO_ROOT / ".yamllint"), *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
