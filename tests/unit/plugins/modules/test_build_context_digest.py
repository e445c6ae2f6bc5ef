"""Unit tests for plugins/modules/build_context_digest.py (no Docker engine needed)."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from ansible.module_utils.testing import patch_module_args

MODULE_PATH = Path(__file__).resolve().parents[4] / "plugins/modules/build_context_digest.py"


def _load_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_context_digest", MODULE_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bcd = _load_module()


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)


@pytest.fixture
def context(tmp_path: Path) -> Path:
    _write(
        tmp_path,
        {
            "Dockerfile": "FROM scratch\n",
            ".dockerignore": ".venv\n**/__pycache__\n*.db\ntests\nDockerfile\n.dockerignore\n",
            "app/main.py": "print('hi')\n",
            "app/__pycache__/main.cpython-311.pyc": "bytecode",
            "app/sub/__pycache__/x.pyc": "bytecode",
            ".venv/lib/site.py": "venv",
            "tests/test_x.py": "test",
            "local.db": "sqlite",
            "app/data.db": "nested db is kept: *.db only matches the top level",
            "uv.lock": "lock",
        },
    )
    return tmp_path


def _digest(root: Path, extra: list[str] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = bcd.digest_context(root, "Dockerfile", extra or [])
    return result


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("*.db", "local.db", True),
        ("*.db", "app/data.db", False),
        ("**/*.pyc", "a/b/c.pyc", True),
        ("**/*.pyc", "c.pyc", True),
        ("**/__pycache__", "__pycache__", True),
        ("**/__pycache__", "app/x/__pycache__", True),
        ("app/**/keep", "app/keep", True),
        ("app/**/keep", "app/a/b/keep", True),
        ("/build", "build", True),
        ("./build/", "build", True),
        ("file?.txt", "file1.txt", True),
        ("file?.txt", "file/.txt", False),
        ("[a-c].txt", "b.txt", True),
        ("[!a-c].txt", "b.txt", False),
        ("[^a-c].txt", "d.txt", True),
        (".env*", ".env.local", True),
        ("docs", "docsite", False),
    ],
)
def test_translate_follows_the_engine_pattern_rules(pattern: str, path: str, expected: bool) -> None:
    regex = bcd.translate(bcd.clean_pattern(pattern))
    assert bool(regex.match(path)) is expected


def test_parse_dockerignore_skips_comments_and_blank_lines_and_marks_exceptions() -> None:
    patterns = bcd.parse_dockerignore("# comment\n\n node_modules \n!keep.txt\n/\n")
    assert [(p.text, p.exclusion) for p in patterns] == [("node_modules", True), ("keep.txt", False)]


def test_a_pattern_that_matches_a_parent_directory_excludes_its_files() -> None:
    patterns = bcd.parse_dockerignore("node_modules\n")
    assert bcd.is_excluded("node_modules/react/index.js", patterns)
    assert not bcd.is_excluded("src/node_modules.ts", patterns)


def test_the_last_matching_pattern_wins() -> None:
    patterns = bcd.parse_dockerignore("*.md\n!README.md\n")
    assert bcd.is_excluded("CHANGES.md", patterns)
    assert not bcd.is_excluded("README.md", patterns)
    again = bcd.parse_dockerignore("!README.md\n*.md\n")
    assert bcd.is_excluded("README.md", again)


def test_context_files_leave_out_what_dockerignore_excludes(context: Path) -> None:
    patterns = bcd.parse_dockerignore((context / ".dockerignore").read_text())
    files = bcd.context_files(context, patterns, always=("Dockerfile", ".dockerignore"))
    assert files == [".dockerignore", "Dockerfile", "app/data.db", "app/main.py", "uv.lock"]


def test_an_exception_re_includes_a_file_inside_an_excluded_directory(tmp_path: Path) -> None:
    _write(tmp_path, {"Dockerfile": "", "dist/a.js": "a", "dist/keep/b.js": "b"})
    patterns = bcd.parse_dockerignore("dist\n!dist/keep/b.js\n")
    assert bcd.context_files(tmp_path, patterns) == ["Dockerfile", "dist/keep/b.js"]


def test_the_digest_is_stable_and_ignores_excluded_files(context: Path) -> None:
    before = _digest(context)
    _write(context, {"tests/test_y.py": "new test", ".venv/bin/x": "x", "app/__pycache__/y.pyc": "y"})
    assert _digest(context) == before


def test_a_source_change_changes_the_digest(context: Path) -> None:
    before = _digest(context)["sha256"]
    _write(context, {"app/main.py": "print('changed')\n"})
    assert _digest(context)["sha256"] != before


def test_a_new_file_a_rename_and_the_dockerfile_change_the_digest(context: Path) -> None:
    digests = {_digest(context)["sha256"]}
    _write(context, {"app/new.py": ""})
    digests.add(_digest(context)["sha256"])
    (context / "app/new.py").rename(context / "app/renamed.py")
    digests.add(_digest(context)["sha256"])
    _write(context, {"Dockerfile": "FROM scratch\nCOPY app /app\n"})
    digests.add(_digest(context)["sha256"])
    assert len(digests) == 4


def test_the_executable_bit_changes_the_digest(context: Path) -> None:
    before = _digest(context)["sha256"]
    (context / "app/main.py").chmod(0o755)
    assert _digest(context)["sha256"] != before


def test_timestamps_do_not_change_the_digest(context: Path) -> None:
    before = _digest(context)["sha256"]
    os.utime(context / "app/main.py", (1, 1))
    assert _digest(context)["sha256"] == before


def test_extra_inputs_such_as_the_base_image_change_the_digest(context: Path) -> None:
    assert _digest(context, ["sha256:aaa"])["sha256"] != _digest(context, ["sha256:bbb"])["sha256"]


def test_symlinks_are_digested_by_target_not_followed(tmp_path: Path) -> None:
    _write(tmp_path, {"Dockerfile": "", "real/a.txt": "a"})
    (tmp_path / "link").symlink_to("real")
    patterns = bcd.parse_dockerignore("")
    assert bcd.context_files(tmp_path, patterns) == ["Dockerfile", "link", "real/a.txt"]
    before = _digest(tmp_path)["sha256"]
    (tmp_path / "link").unlink()
    (tmp_path / "link").symlink_to("elsewhere")
    assert _digest(tmp_path)["sha256"] != before


def _run_main(capsys: pytest.CaptureFixture[str], args: dict[str, Any]) -> dict[str, Any]:
    with patch_module_args(args), pytest.raises(SystemExit):
        bcd.main()
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


def test_main_returns_a_short_digest_and_never_changes(
    context: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = _run_main(capsys, {"path": str(context), "extra": ["sha256:base"]})
    assert result["changed"] is False
    assert len(result["digest"]) == 12
    assert result["sha256"].startswith(result["digest"])
    assert result["files"] == 5
    assert "**/__pycache__" in result["patterns"]


def test_main_honours_length(context: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert len(_run_main(capsys, {"path": str(context), "length": 20})["digest"]) == 20


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"length": 4}, "length must be between 8 and 64"),
        ({"dockerfile": "Missing.Dockerfile"}, "dockerfile Missing.Dockerfile was expected"),
    ],
)
def test_main_fails_with_what_was_expected(
    context: Path, capsys: pytest.CaptureFixture[str], args: dict[str, Any], message: str
) -> None:
    result = _run_main(capsys, {"path": str(context), **args})
    assert result["failed"] is True
    assert message in result["msg"]


def test_main_fails_on_a_missing_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = _run_main(capsys, {"path": str(tmp_path / "nope")})
    assert result["failed"] is True
    assert "found no directory" in result["msg"]
