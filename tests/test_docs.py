"""The documentation keeps step with the code."""

from __future__ import annotations

from pathlib import Path

from kenning.cli import cli
from kenning.cli.app import load_all_commands
from kenning.domain.records import CANONICAL_FIELDS
from kenning.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_command_is_in_the_readme() -> None:
    load_all_commands()
    missing = [name for name in cli.commands if f"kenning {name}" not in README]
    assert missing == []


def test_every_canonical_column_is_in_the_readme() -> None:
    assert [f for f in CANONICAL_FIELDS if f"`{f}`" not in README] == []


def test_every_setting_is_in_the_readme() -> None:
    names = [f"KENNING_{name.upper()}" for name in Settings.model_fields]
    assert [n for n in names if n not in README] == []


def test_ci_runs_the_readme_test_command() -> None:
    command = next(
        line for line in README.splitlines() if "pytest" in line and "pip install" in line
    )
    assert command.strip() in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
