"""Time every library scenario at its default size: one ``sim run CONFIG --json`` each.

Prints a Markdown table (the README's "scenario library at its default sizes"): the whole
command's wall time (tables, figures and report included), the summary's
``simulation_seconds``, and the headline gap. Run after the kernels are compiled (e.g. after
``make run``):

    python scripts/bench_library.py [NAME ...]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Every scenario in configs/ (the population parameter sets are not scenarios).
LIBRARY = tuple(
    sorted(
        p.stem for p in (ROOT / "configs").glob("*.yaml") if not p.stem.startswith("population-")
    )
)


def time_scenario(name: str, scratch: Path) -> str:
    """One run of ``configs/<name>.yaml``; its Markdown table row."""
    command = [sys.executable, "-m", "sim", "run", str(ROOT / "configs" / f"{name}.yaml")]
    command += ["--json", "--out", str(scratch / name)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    whole = time.perf_counter() - started
    summary = json.loads(done.stdout)
    headline, gap = summary["headline"], summary["headline"]["gap_months"]
    size = f"{summary['replications']} × {summary['defendants']:,} × {len(summary['districts'])}"
    return (
        f"| `{name}` | {size} | {whole:.1f} | {summary['simulation_seconds']:.1f} | "
        f"{headline['from']} − {headline['to']} {gap['estimate']:.2f} ({gap['mcse']:.2f}) |"
    )


def main(names: list[str]) -> None:
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print(
        "| scenario | replications × defendants × districts | whole (s) | simulation (s) "
        "| headline gap, months (MCSE) |"
    )
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for name in names or LIBRARY:
            print(time_scenario(name, Path(scratch)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
