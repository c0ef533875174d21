"""`python -m monitord`."""

from monitord.cli import main

main()
