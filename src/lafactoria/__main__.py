"""Allow ``python -m lafactoria``."""

from lafactoria.cli import main

main()
