"""``python -m apexgen`` runs the apexgen command line."""

from apexgen.cli import main

main()
