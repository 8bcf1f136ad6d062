"""The stock commands, driven in-process."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from kenning.cli import cli
from kenning.services.keys import authenticate
from kenning.store import open_store


def _run(db: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{db}", *args])
    return result.exit_code, result.output


def test_locations_stock_keys_and_expiry(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    locations = tmp_path / "locations.csv"
    locations.write_text(
        "id,name,kind,market,latitude,longitude,pickup,ship_capacity\n"
        "LDN,London,store,GB,51.5,-0.14,yes,20\n"
        "WH,Warehouse,warehouse,GB,52.2,-1.1,,\n",
        encoding="utf-8",
    )
    code, output = _run(db, "locations", "import", str(locations))
    assert code == 0 and "2 locations written, 0 rejected" in output
    code, output = _run(db, "locations", "list", "--market", "GB")
    assert code == 0 and "London" in output and "no limit" in output
    stock = tmp_path / "stock.csv"
    stock.write_text("sku,location,on_hand\nBAG-1,LDN,4\nBAG-1,NOWHERE,1\n", encoding="utf-8")
    code, output = _run(db, "import-stock", str(stock))
    assert code == 0 and "1 stock levels written, 1 rejected" in output
    assert "line 3: unknown location 'NOWHERE'" in output
    code, output = _run(db, "keys", "add", "--name", "shop", "--scope", "inventory:read")
    assert code == 0
    secret = output.strip().splitlines()[-1]
    with open_store(f"sqlite:///{db}") as store:
        key = authenticate(store, secret)
    assert key is not None and key.scopes == ("inventory:read",)
    code, output = _run(db, "keys", "list")
    assert code == 0 and "shop" in output and secret not in output
    code, output = _run(db, "keys", "add", "--name", "x", "--scope", "root")
    assert code == 2
    code, output = _run(db, "inventory", "expire")
    assert code == 0 and "Released 0 expired holds" in output
    code, output = _run(db, "keys", "revoke", "1")
    assert code == 0 and "revoked" in output
