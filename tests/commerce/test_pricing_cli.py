"""The pricing commands, driven in-process: import a price book and promotions, audit what
the channels showed and charged."""

from __future__ import annotations

import csv
from pathlib import Path

from test_inventory_cli import _run


def test_import_and_audit(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    book = tmp_path / "prices.csv"
    book.write_text(
        "sku,market,channel,currency,price,kind,customer_group,starts_at,ends_at\n"
        "BAG-1,GB,,GBP,100.00,base,,,\n"
        "BAG-1,GB,,GBP,79.99,sale,,2026-11-20T00:00:00+00:00,2026-12-01T00:00:00+00:00\n"
        "TAG-2,GB,,GBP,10,base,,,\n"
        "TAG-2,GB,,GBP,1.234,base,,,\n"
        "TAG-2,GB,,GBP,9,channel,,,\n"
        "TAG-2,GB,,GBP,8,sale,,2026-11-20T00:00:00,\n",
        encoding="utf-8",
    )
    code, output = _run(db, "prices", "import", str(book))
    assert code == 0 and "3 prices written, 3 rejected" in output
    assert "line 5: '1.234' has more decimals than GBP allows" in output
    assert "line 6: a channel price must name its channel" in output
    assert "line 7: times must carry a time zone" in output
    promos = tmp_path / "promotions.yaml"
    promos.write_text(
        "promotions:\n"
        "  - id: tags-3-for-2\n"
        "    kind: buy_x_get_y\n"
        "    value: 100\n"
        "    buy: 2\n"
        "    get: 1\n"
        "    target: {skus: [TAG-2]}\n",
        encoding="utf-8",
    )
    code, output = _run(db, "promotions", "import", str(promos))
    assert code == 0 and "1 promotions written" in output
    code, output = _run(db, "promotions", "list")
    assert code == 0 and "tags-3-" in output
    bad = tmp_path / "bad.json"
    bad.write_text('[{"id": "x", "kind": "half_off"}]', encoding="utf-8")
    code, output = _run(db, "promotions", "import", str(bad))
    assert code == 1 and "Nothing was imported" in output

    seen = tmp_path / "seen.csv"
    seen.write_text(
        "channel,store,market,sku,observed_at,price,quantity\n"
        "shelf,LDN,GB,BAG-1,2026-11-27T09:00:00+00:00,100.00,1\n"  # label not updated
        "web,,GB,BAG-1,2026-11-27T09:00:00+00:00,79.99,1\n"
        "pos,LDN,GB,TAG-2,2026-11-27T09:05:00+00:00,10,3\n"  # 3 for 2 not applied
        "pos,LDN,GB,TAG-2,2026-11-27T09:06:00+00:00,6.67,3\n"
        "pos,LDN,GB,TAG-2,yesterday,10,1\n",
        encoding="utf-8",
    )
    report = tmp_path / "discrepancies.csv"
    code, output = _run(db, "prices", "audit", str(seen), "--out", str(report))
    assert code == 0, output
    assert (
        "4 observations checked, 2 discrepancies" in output.replace("\n", " ")
        and "1 rows rejected" in output
    )
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    assert [(r["store"], r["sku"], r["channel"], r["difference"]) for r in rows] == [
        ("LDN", "BAG-1", "shelf", "20.01"),
        ("LDN", "TAG-2", "pos", "10.00"),
    ]
    assert "sale price" in rows[0]["explanation"]
