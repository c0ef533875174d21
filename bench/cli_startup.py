"""How long `monitord --version` and `--help` take, beside a bare interpreter in the same run.

Target (issue 15): each at most 0.3 s. Run: .venv/bin/python bench/cli_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def timed(argv: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    bare = timed([sys.executable, "-c", "pass"], runs)
    print(f"python -c pass          {bare * 1000:7.1f} ms (reference)")
    for args in (["--version"], ["--help"], ["ticket", "--help"]):
        took = timed([sys.executable, "-m", "monitord", *args], runs)
        print(f"monitord {' '.join(args):<14} {took * 1000:7.1f} ms  ({took / bare:.1f}x bare)")


if __name__ == "__main__":
    main()
