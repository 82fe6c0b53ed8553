"""The compiled-kernel cache can never serve stale code or constants.

numba's own cache checks only the source file of the kernel it compiled. ``engine.py``'s
assessment kernel reads ``NO_OVERRIDE`` from ``records.py``; with numba's cache alone, editing that
constant leaves the old value compiled in (shown first, so the test proves the hazard is real).
``sim/__init__.py`` keys the cache folder by a hash of every source file, so the same edit makes
every kernel compile afresh. Each step runs a fresh interpreter on a copy of the package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parents[1] / "sim"

SCRIPT = """
import json
from sim.guidelines.casefile import CaseFile, case_to_records
from sim.guidelines.editions import edition
from sim.guidelines import engine
case = CaseFile.model_validate({"manual": 2018, "conviction": "1326(a)", "priors": [
    {"kind": "other_felony", "felony": True, "aggravated_felony": False,
     "sentence_imposed_months": 36, "imposed_years_ago": 4, "before_first_removal": True}]})
assessment = engine.assess(case_to_records([case]), edition(2018))
stats = engine._assessment_kernel.stats
print(json.dumps({"category": int(assessment.criminal_history_category[0]),
                  "cache_hits": sum(stats.cache_hits.values())}))
"""

#: What sim/__init__.py would be without the keyed folder: numba's cache alone, in a fixed place.
UNKEYED_INIT = 'import os\nos.environ["NUMBA_CACHE_DIR"] = os.environ["FIXED_CACHE"]\n'


def _copy(tmp_path: Path, name: str) -> Path:
    root = tmp_path / name
    shutil.copytree(
        SIM, root / "sim", ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc")
    )
    return root


def _run(root: Path, tmp_path: Path) -> dict:
    env = {
        **os.environ,
        "PYTHONPATH": str(root),
        "SIM_CACHE_DIR": str(tmp_path / "keyed-cache"),
        "FIXED_CACHE": str(tmp_path / "fixed-cache"),
    }
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True
    )
    import json

    return json.loads(done.stdout.strip().splitlines()[-1])


def _edit_no_override(root: Path) -> None:
    records = root / "sim" / "guidelines" / "records.py"
    text = records.read_text(encoding="utf-8")
    assert "NO_OVERRIDE = -1\n" in text
    records.write_text(text.replace("NO_OVERRIDE = -1\n", "NO_OVERRIDE = -7\n"), encoding="utf-8")


@pytest.mark.slow
def test_numba_alone_serves_a_stale_constant(tmp_path):
    # Without the keyed folder: after the edit numba loads the kernel compiled with -1, and reads
    # the new -7 as an override: category -7 instead of II (36 months: 3 points). This proves the
    # hazard the next test guards against is real.
    unkeyed = _copy(tmp_path, "unkeyed")
    (unkeyed / "sim" / "__init__.py").write_text(UNKEYED_INIT, encoding="utf-8")
    assert _run(unkeyed, tmp_path) == {"category": 2, "cache_hits": 0}
    _edit_no_override(unkeyed)
    assert _run(unkeyed, tmp_path) == {"category": -7, "cache_hits": 1}


@pytest.mark.slow
def test_an_edit_in_another_module_recompiles_every_kernel(tmp_path):
    # With the keyed folder: cached while nothing changes, compiled afresh (and right) after the
    # edit.
    keyed = _copy(tmp_path, "keyed")
    assert _run(keyed, tmp_path) == {"category": 2, "cache_hits": 0}
    assert _run(keyed, tmp_path) == {"category": 2, "cache_hits": 1}
    _edit_no_override(keyed)
    assert _run(keyed, tmp_path) == {"category": 2, "cache_hits": 0}


def test_top_level_modules_hold_nothing_a_kernel_reads():
    # The cache key hashes only the kernel rooms (sim/__init__.py): a top-level module that
    # compiled a kernel, or that a kernel module imported names from, would escape it.
    import ast

    top_level = {p.stem for p in SIM.glob("*.py")} - {"__init__"}
    for path in SIM.glob("*.py"):
        if path.name == "sources.py":  # hashes the kernel sources and numba's version: no kernel
            assert "import numba" not in path.read_text(encoding="utf-8")
            assert "njit" not in path.read_text(encoding="utf-8")
        elif path.name != "__init__.py":
            assert "numba" not in path.read_text(encoding="utf-8"), path
    for room in ("guidelines", "model", "run"):
        for path in (SIM / room).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            kernels = "numba" in ast.dump(tree)
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module:
                    parts = node.module.split(".")
                    if parts[0] == "sim" and len(parts) == 2 and parts[1] in top_level:
                        assert parts[1] in ("inputs", "sources"), (path, node.module)
                        assert not kernels, (path, node.module)
