"""Peak memory (max RSS) of `gdstudio run --out` for a long single-start run.

    python benchmarks/bench_cli_memory.py [EPOCHS]      (default 1,000,000)

The CLI keeps its steps in an anonymous temporary file (gdstudio.core.export.SpooledRun) and writes the CSV
from it at the end; before, every step was kept in memory and the CSV built as one string.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time


def main() -> None:
    epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "big.csv")
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "gdstudio", "run", "--objective", "sphere", "--optimizer", "gd",
                        "--lr", "1e-7", "--epochs", str(epochs), "--start", "1", "1", "--out", out], check=True,
                       capture_output=True)
        wall = time.perf_counter() - t0
        size = os.path.getsize(out)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"{epochs:,} steps: peak RSS {peak_mb:.0f} MB, CSV {size / 2**20:.0f} MB, {wall:.1f} s")


if __name__ == "__main__":
    main()
