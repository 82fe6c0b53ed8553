"""Faults against real processes: stop signals mid-run, a killed parent with workers, two runs
racing for one folder, a stop during ``sim reproduce``. Each starts ``python -m sim`` as a child
and inspects what it leaves behind: exit code, message, folders, temporary files, processes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)"),
]

#: A run long enough to be stopped in the middle (about 10 s on one core).
LONG = ["--defendants", "3000000", "--replications", "4", "--block-size", "100000"]


def start(*args: str, cwd: Path, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sim", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def children(pid: int) -> list[int]:
    """Processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its parent's wait is missing


def wait_until(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def staging(folder: Path) -> list[Path]:
    return sorted(folder.glob(".*.partial"))


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_stop_signal_mid_run_stops_workers_and_leaves_nothing(tmp_path, signum, code):
    process = start("run", *LONG, "--workers", "2", "--out", "out", cwd=tmp_path)
    wait_until(lambda: staging(tmp_path) and len(children(process.pid)) >= 2, 60, "workers")
    workers = children(process.pid)
    time.sleep(1.0)  # well into the simulation
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stderr
    assert f"stopped by {signal.Signals(signum).name}" in stderr
    assert "Traceback" not in stderr
    assert stdout == ""
    assert list(tmp_path.iterdir()) == []  # no archive, no staging folder
    wait_until(lambda: not any(alive(w) for w in workers), 10, "workers to exit")


def test_workers_die_with_a_killed_parent_and_the_next_run_cleans_up(tmp_path):
    process = start("run", *LONG, "--workers", "2", "--out", "out", cwd=tmp_path)
    wait_until(lambda: staging(tmp_path) and len(children(process.pid)) >= 2, 60, "workers")
    workers = children(process.pid)
    process.kill()  # SIGKILL: no handler runs
    process.communicate(timeout=30)
    wait_until(lambda: not any(alive(w) for w in workers), 10, "orphaned workers to exit")
    left = staging(tmp_path)
    assert len(left) == 1  # what SIGKILL leaves: the staging folder of the dead run
    small = ["--defendants", "1000", "--replications", "2", "--out", "next"]
    again = start("run", *small, cwd=tmp_path)
    _, stderr = again.communicate(timeout=120)
    assert again.returncode == 0, stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["next"]


def test_two_runs_racing_for_one_folder_end_with_one_archive(tmp_path):
    small = ["--defendants", "20000", "--replications", "2", "--out", "out"]
    first, second = (start("run", *small, cwd=tmp_path) for _ in range(2))
    results = [(p.wait(timeout=180), p.stderr.read()) for p in (first, second)]
    for p in (first, second):
        p.stdout.close()
        p.stderr.close()
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    message = next(err for code, err in results if code == 2)
    assert message.count("\n") == 1, message  # one line
    assert "already exists" in message
    assert "Traceback" not in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    check = subprocess.run(
        [sys.executable, "-m", "sim", "verify", "out"], cwd=tmp_path, capture_output=True
    )
    assert check.returncode == 0


def test_a_stop_during_reproduce_leaves_no_temporary_files(tmp_path):
    archive = tmp_path / "archive"
    made = subprocess.run(
        [sys.executable, "-m", "sim", "run", *LONG, "--out", str(archive)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    process = start("reproduce", str(archive), cwd=tmp_path, env={"TMPDIR": str(scratch)})
    time.sleep(5.0)  # verified and re-running
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143, stderr
    assert "Traceback" not in stderr
    assert list(scratch.iterdir()) == []
