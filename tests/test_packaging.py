"""The package: its licence and metadata, and Faker only for the demo retailer."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]

# Runs in a fresh interpreter where Faker cannot be imported, as after `pip install kenning`.
_WITHOUT_FAKER = """
import json, sys
sys.modules["faker"] = None  # importing it fails, and find_spec finds nothing
from click.testing import CliRunner
from kenning.cli import cli
from kenning.cli.app import load_all_commands

db, csv, out = sys.argv[1:4]
answers = {}
load_all_commands()
import kenning.api.app
for args in (
    ["--help"],
    ["serve", "--help"],
    ["sources", "add", "web"],
    ["import", csv, "--source", "pos"],
    ["summary"],
    ["demo", "--no-serve", "--out", out],
    ["datagen", "--out", out],
):
    result = CliRunner().invoke(cli, ["--db", db, *args])
    answers[args[0]] = [result.exit_code, result.output]
answers["datagen modules"] = sorted(m for m in sys.modules if m.startswith("kenning.datagen"))
print(json.dumps(answers))
"""


def test_every_command_but_the_demo_retailer_works_without_faker(tmp_path: Path) -> None:
    rows = tmp_path / "till.csv"
    rows.write_text("record_id,email\n7,ann@example.org\n", encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-c", _WITHOUT_FAKER, f"sqlite:///{tmp_path / 'k.db'}", str(rows),
         str(tmp_path / "demo")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    answers = json.loads(run.stdout.splitlines()[-1])
    for command in ("--help", "serve", "sources", "import", "summary"):
        assert answers[command][0] == 0, answers[command]
    assert "demo" in answers["--help"][1]
    for command in ("demo", "datagen"):
        code, output = answers[command]
        assert code == 1 and "pip install 'kenning[demo]'" in output
        assert "Traceback" not in output
    assert answers["datagen modules"] == []
    assert not (tmp_path / "demo").exists()


def test_faker_comes_only_with_the_extras_that_generate_the_retailer() -> None:
    assert not any(d.startswith("faker") for d in PROJECT["dependencies"])
    extras = PROJECT["optional-dependencies"]
    assert [d for d in extras["demo"] if d.startswith("faker")]
    assert "kenning[demo]" in extras["dev"]  # the tests generate it
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first = next(line for line in readme.splitlines() if "kenning demo" in line and "pip" in line)
    assert "install -q -e '.[demo]'" in first


def test_licence_and_metadata() -> None:
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("Copyright 2026 The Kenning authors\n")
    assert "Apache License\n                           Version 2.0, January 2004" in licence
    assert "END OF TERMS AND CONDITIONS" in licence
    assert PROJECT["license"] == "Apache-2.0" and PROJECT["license-files"] == ["LICENSE"]
    classifiers = PROJECT["classifiers"]
    for wanted in ("Framework :: FastAPI", "Typing :: Typed", "Development Status :: 3 - Alpha"):
        assert wanted in classifiers
    assert [c for c in classifiers if c.startswith("Programming Language :: Python :: 3.")] == [
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
    ]
    # PEP 639: the licence expression replaces the classifiers.
    assert not [c for c in classifiers if c.startswith("License ::")]
    assert sorted(PROJECT["urls"]) == ["Documentation", "Homepage", "Issues", "Repository"]
    assert PROJECT["authors"] and PROJECT["keywords"]
    assert (ROOT / "src" / "kenning" / "py.typed").exists()
