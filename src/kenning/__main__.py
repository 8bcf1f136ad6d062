"""``python -m kenning`` runs the command line."""

from kenning.cli import main

main()
