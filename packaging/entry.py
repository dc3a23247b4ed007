"""Entry point of the PyInstaller bundle: the same program as the ``gdstudio`` command."""

import sys

from gdstudio.cli import main

if __name__ == "__main__":
    sys.exit(main())
