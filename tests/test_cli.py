"""The command line, driven in-process."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from kenning.cli import cli
from kenning.cli.app import COMMAND_MODULES, load_all_commands


def _run(db: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{db}", *args])
    return result.exit_code, result.output


def test_datagen_import_summary(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    code, output = _run(
        db, "datagen", "--people", "200", "--seed", "3", "--out", str(tmp_path / "d")
    )
    assert code == 0, output
    files = sorted(str(p) for p in (tmp_path / "d" / "records").glob("*.csv"))
    assert len(files) == 5
    code, output = _run(db, "import", *files)
    assert code == 0, output
    assert "new records" in output
    code, output = _run(db, "summary")
    assert code == 0, output
    for source in ("pos", "web", "registrations", "email", "loyalty"):
        assert source in output


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    code, output = _run(tmp_path / "k.db", "import", str(tmp_path / "nope.csv"), "--source", "pos")
    assert code == 1
    assert "no such file" in output and "Nothing was imported" in output
    assert "Traceback" not in output


def test_bad_options_are_clear_errors(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("record_id\n1\n", encoding="utf-8")
    code, output = _run(tmp_path / "k.db", "import", str(path), "--source", "Point of Sale")
    assert code == 2 and "invalid source name" in output
    code, output = _run(
        tmp_path / "k.db", "import", str(path), "--source", "pos", "--country", "Atlantis"
    )
    assert code == 2 and "unknown country" in output


def test_import_with_source_and_country_then_rebuild(tmp_path: Path) -> None:
    path = tmp_path / "till.csv"
    path.write_text("Customer ID,Name,Phone\n7,Ann Lee,020 7946 0123\n", encoding="utf-8")
    db = tmp_path / "k.db"
    code, output = _run(db, "import", str(path), "--source", "pos-london", "--country", "UK")
    assert code == 0, output
    code, output = _run(db, "rebuild")
    assert code == 0 and "Rebuilt 1 records" in output


def test_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    code, output = _run(tmp_path / "no" / "such" / "folder.db", "summary")
    assert code == 1 and "cannot open the database" in output


def test_demo_links_the_story_customer(tmp_path: Path) -> None:
    code, output = _run(
        tmp_path / "k.db", "demo", "--people", "300", "--out", str(tmp_path / "demo"), "--no-serve"
    )
    assert code == 0, output
    assert "Kenning linked them into" in output
    assert "Theresa's" in output and "records are now one customer." in output
    # The story after: one customer, her bags, her repairs, the greeting.
    assert "her golden record" in output and "Her repairs" in output
    assert "ready for pickup" in output
    assert "Hello Theresa, thanks for owning 4 suitcases, 3 laptop bags" in output


def test_every_command_is_loaded_by_its_name() -> None:
    """Commands load on demand (app.COMMAND_MODULES): the map names every command each
    module defines, and each by the module that defines it."""
    load_all_commands()
    defined = {
        name: command.callback.__module__.rsplit(".", 1)[-1]
        for name, command in cli.commands.items()
        if command.callback is not None
    }
    assert defined == COMMAND_MODULES


def _shown(db: Path, *args: str) -> tuple[int, str]:
    """_run, the output's tables as plain words (a cell wraps at 80 columns)."""
    code, output = _run(db, *args)
    return code, " ".join(re.sub(r"[\u2500-\u257f]", " ", output).split())


def test_model_show_tells_the_prior_from_a_trained_model(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    code, output = _shown(db, "model", "show")
    assert code == 0, output
    assert "the shipped prior" in output and "records in the store" in output
    assert "email" in output and "exact +30" in output  # the weights, by comparison
    assert "trains a model of this store's from 1,000" in output
    # A retailer of some 1,000 records: enough for a model of its own.
    code, output = _run(db, "datagen", "--people", "320", "--seed", "9", "--no-activity",
                        "--out", str(tmp_path / "d"))  # fmt: skip
    assert code == 0, output
    code, output = _run(db, "import", *map(str, sorted((tmp_path / "d" / "records").glob("*"))))
    assert code == 0, output
    code, output = _shown(db, "model", "show")
    assert "the shipped prior" in output and "the next `kenning resolve` trains" in output
    code, output = _shown(db, "resolve")
    assert code == 0 and "trained now: trained on" in output, output
    code, output = _shown(db, "model", "show")
    assert code == 0, output
    assert "trained on" in output and "records of this store" in output
    assert "source trained" in output and "shipped prior" not in output
    assert "trained at" in output and "when Kenning was built" not in output
    assert "note" not in output
    # Run again, the stored model is used as it is.
    code, output = _shown(db, "resolve")
    assert code == 0 and "trained now" not in output and "records of this store" in output
