"""``python -m rtc_interact`` runs the command line."""

from .cli import main

main()
