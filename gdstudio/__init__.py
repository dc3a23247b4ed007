"""gdstudio: see optimization.

The version lives here and only here (pyproject.toml reads it). This module imports no Qt.
"""

__version__ = "0.1.0"
