"""The ``kenning`` command line: one command group; long work shows progress."""

from kenning.cli import identity, inventory, ledger, pricing, profiles, realtime, records
from kenning.cli.app import cli, main

__all__ = [
    "cli",
    "identity",
    "inventory",
    "ledger",
    "main",
    "pricing",
    "profiles",
    "realtime",
    "records",
]
