"""
Run every benchmark under bench/ (each ``bench_*.py`` is a standalone script that prints
``name: measured vs budget`` lines) and summarise. ``make bench`` calls this.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if not scripts:
        print("No benchmarks found.")
        return 1
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    failures = 0
    for script in scripts:
        print(f"\n=== {script.name}")
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, str(script)], env=env, cwd=HERE.parent, check=False
        )
        print(f"--- {script.name}: {time.monotonic() - started:.1f} s, exit {result.returncode}")
        failures += result.returncode != 0
    print(f"\n{len(scripts) - failures} of {len(scripts)} benchmark scripts within budget.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
