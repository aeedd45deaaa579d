"""``python -m generator`` runs the apexgen command line."""

from generator.cli import main

main()
