"""kenning import-activity and kenning profile from the shell."""

from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner

from kenning.cli import cli
from kenning.services.follow import catch_up
from kenning.services.identity import resolve_store
from kenning.store import open_store


def test_import_activity_twice_then_profile(tmp_path: Path, retailer: Path) -> None:
    db = f"sqlite:///{tmp_path / 'k.db'}"
    runner = CliRunner()
    records = [str(p) for p in sorted((retailer / "records").glob("*.csv"))]
    assert runner.invoke(cli, ["--db", db, "import", *records]).exit_code == 0
    with open_store(db) as store:
        resolve_store(store)
        catch_up(store)
        customer = store.customer_of("email", "SUB6091961698") or ""
    first = runner.invoke(cli, ["--db", db, "import-activity", str(retailer)])
    assert first.exit_code == 0, first.output
    again = runner.invoke(cli, ["--db", db, "import-activity", str(retailer / "activity")])
    assert again.exit_code == 0, again.output
    rows = [line for line in again.output.splitlines() if "│" in line]
    assert rows and all(line.split("│")[3].strip() == "0" for line in rows)
    shown = runner.invoke(cli, ["--db", db, "profile", customer])
    assert shown.exit_code == 0, shown.output
    assert orjson.loads(shown.output)["golden"]["first_name"]["value"] == "Theresa"
    missing = runner.invoke(cli, ["--db", db, "import-activity", str(tmp_path)])
    assert missing.exit_code == 1 and "no activity files" in missing.output
