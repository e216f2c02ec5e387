"""`python -m oldphoto ...` runs the command-line interface."""

from oldphoto.cli import main

main()
