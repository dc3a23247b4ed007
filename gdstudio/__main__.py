"""``python -m gdstudio`` is the same program as ``gdstudio``."""

import sys

from gdstudio.cli import main

if __name__ == "__main__":
    sys.exit(main())
