"""The ``kenning`` command line: one command group; long work shows progress. Each
command's module loads when the command is asked for (see app.COMMAND_MODULES)."""

from kenning.cli.app import cli, main

__all__ = ["cli", "main"]
