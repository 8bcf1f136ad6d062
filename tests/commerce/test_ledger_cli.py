"""The ledger commands, driven in-process: verify passes on good books and fails on bad."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from ledger_data import NOW

from kenning.cli import cli
from kenning.services import ledger
from kenning.store import open_store


def _run(db: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{db}", *args])
    return result.exit_code, result.output


def test_issue_balances_expire_and_verify(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    code, output = _run(db, "gift-cards", "issue", "--amount", "2500", "--customer", "c1")
    assert code == 0, output
    card_code, account_id, _ = output.strip().split("\t")
    code, output = _run(db, "ledger", "balances", "c1")
    assert code == 0 and f"…{card_code[-4:]}" in output and "2,500" in output
    code, output = _run(db, "ledger", "expire")
    assert code == 0 and "Expired 0 lots" in output
    code, output = _run(db, "ledger", "verify")
    assert code == 0 and "The books balance: 2 accounts, 1 transactions, 2 postings" in output
    with open_store(f"sqlite:///{db}") as store:
        ledger.redeem_gift_card(store, card_code, 500, now=NOW)
        # Someone edits a balance behind the ledger's back.
        store._execute("UPDATE ledger_accounts SET balance = 9999 WHERE id = ?", (account_id,))
    code, output = _run(db, "ledger", "verify")
    assert code == 1
    assert "balance_not_sum_of_postings" in output and "do not balance" in output
