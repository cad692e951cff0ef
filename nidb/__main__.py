"""``python -m nidb`` runs the nidb command."""

from nidb.cli import main

main()
