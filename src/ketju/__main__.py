"""`python -m ketju` runs the command line interface."""

from ketju.cli import main

main()
