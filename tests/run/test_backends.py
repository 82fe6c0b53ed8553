"""Backends: the same tallies on this process, local worker processes and a Dask cluster, in
any task order; a lost worker replaced and its pieces recomputed; an unreachable scheduler, a
bad address and an interrupted run refused cleanly."""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from sim.analysis.results import analyse
from sim.cli import app
from sim.inputs import InputError
from sim.model.scenario import load_scenario
from sim.run import runner
from sim.run.backends import ClusterOptions, DaskBackend, LocalBackend, open_backend
from sim.run.runner import run_study, study_tasks, task_blocks
from sim.run.sweep import evaluate_points
from sim.run.tally import StudyTally

CONFIGS = Path(__file__).resolve().parents[2] / "configs"

#: A study of several tasks per replication (pieces cut at random-block boundaries).
SMALL = {"defendants": 60_000, "replications": 3, "block_size": 20_000, "profile_draws": 50}


def small_scenario(**study):
    return load_scenario(None, {**SMALL, **study})[0]


def assert_same_tallies(a: StudyTally, b: StudyTally) -> None:
    for name, x, y in zip(StudyTally._fields, a, b, strict=True):
        assert np.array_equal(x, y), name


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Tasks ---------------------------------------------------------------------------------------


def test_tasks_cover_every_defendant_of_every_replication_once():
    scenario = small_scenario(defendants=95_000, block_size=10_000, replications=4)
    for workers in (1, 2, 7, 64):
        tasks = study_tasks(scenario, 1, workers)
        runs = [run for task in tasks for run in task]
        for replication in range(1, 4):
            spans = sorted((a, b) for r, a, b in runs if r == replication)
            assert spans[0][0] == 0
            assert spans[-1][1] == 95_000
            assert all(b == c for (_, b), (c, _) in itertools.pairwise(spans))
        assert {r for r, _, _ in runs} == {1, 2, 3}
        blocks = task_blocks(scenario, workers)
        sizes = [sum(-(-(b - a) // 10_000) for _, a, b in task) for task in tasks]
        assert all(size == blocks for size in sizes[:-1])
        assert 1 <= sizes[-1] <= blocks


def test_task_size_is_enough_sentencings_but_enough_tasks_per_worker():
    # 10 replications x 20 blocks of 10,000 defendants x 4 districts = 40,000 sentencings each:
    # 4e6 sentencings want 100 blocks (a task then spans 5 replications), but 4 tasks per worker
    # of 200 blocks allow 50 (one worker), 25 (two), 2 (25 workers), 1 (1,000).
    scenario = small_scenario(defendants=200_000, block_size=10_000, replications=10)
    assert len(scenario.districts) == 4
    assert task_blocks(scenario, 1) == 50
    assert task_blocks(scenario, 2) == 25
    assert task_blocks(scenario, 25) == 2
    assert task_blocks(scenario, 1000) == 1
    big = small_scenario(defendants=10_000_000, block_size=50_000, replications=2)
    assert task_blocks(big, 2) == 20  # 4e6 / (50,000 x 4)


def test_a_task_spanning_replications_tallies_each_apart():
    scenario = small_scenario(defendants=30_000, block_size=10_000, replications=4)
    assert task_blocks(scenario, 1) == 3  # 12 blocks, 4 tasks of 3
    expected = run_study(scenario).tally
    replications, part = runner._simulate_and_tally(scenario, ((1, 20_000, 30_000), (2, 0, 20_000)))
    assert replications == (1, 2)
    assert part.defendants.tolist() == [10_000, 20_000]
    assert part.defendants.sum() < expected.defendants[1] + expected.defendants[2]
    whole = runner._simulate_and_tally(scenario, ((1, 0, 30_000),))[1]
    assert_same_tallies(
        StudyTally(*(field[[1]] for field in expected)), StudyTally(*(f for f in whole))
    )


def test_tallies_do_not_depend_on_the_order_tasks_finish(monkeypatch):
    scenario = small_scenario()
    expected = run_study(scenario).tally
    planned = runner.study_tasks
    for seed in range(3):

        def shuffled(*args, seed=seed):
            tasks = planned(*args)
            random.Random(seed).shuffle(tasks)
            return tasks

        monkeypatch.setattr(runner, "study_tasks", shuffled)
        assert_same_tallies(run_study(scenario).tally, expected)


def test_a_bad_backend_choice_names_every_problem():
    with pytest.raises(InputError) as error, open_backend("spark", 0, ClusterOptions("x")):
        pass
    fields = [field for field, _ in error.value.problems]
    assert fields == ["backend", "scheduler", "workers"]


@pytest.mark.parametrize(
    "address", ["foo", "tcp://", "http://127.0.0.1:8787", "tcp://h:99999", "tcp://a b:1"]
)
def test_a_malformed_scheduler_address_exits_2_naming_it(address, tmp_path):
    result = CliRunner().invoke(
        app, ["run", "--backend", "dask", "--scheduler", address, "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert f"--scheduler: {address}: not a scheduler address" in result.output
    assert not (tmp_path / "o").exists()


def test_a_scheduler_without_the_dask_backend_exits_2():
    result = CliRunner().invoke(app, ["run", "--scheduler", "tcp://127.0.0.1:8786"])
    assert result.exit_code == 2
    assert "--scheduler: tcp://127.0.0.1:8786: allowed only with the dask backend" in result.output


def test_an_unreachable_scheduler_exits_2_naming_it_and_writes_nothing(tmp_path):
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    result = CliRunner().invoke(
        app,
        [
            "run",
            "--backend",
            "dask",
            "--scheduler",
            address,
            "--scheduler-timeout",
            "1",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 2, result.output
    assert f"--scheduler: {address}: no Dask scheduler answered there within 1 s" in result.output
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_something_else_listening_is_not_taken_for_a_scheduler(tmp_path):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
        result = CliRunner().invoke(
            app,
            ["run", "--backend", "dask", "--scheduler", address, "--scheduler-timeout", "1"],
        )
    assert result.exit_code == 2, result.output
    assert f"--scheduler: {address}:" in result.output


# On a cluster --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster of two single-threaded worker processes (nannies restart a lost one)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as local:
        yield local


@pytest.fixture
def client(cluster):
    from distributed import Client

    with Client(cluster.scheduler_address, set_as_default=False) as connected:
        connected.wait_for_workers(2, timeout=60)
        yield connected


@pytest.mark.slow
def test_every_backend_and_worker_count_gives_the_same_tallies_and_summary(client, monkeypatch):
    scenario = small_scenario()
    local = run_study(scenario)
    expected = analyse(local).summary
    runs = {
        "local, 2 processes": run_study(scenario, workers=2),
        "dask, 2 workers": run_study(scenario, workers=DaskBackend(client)),
    }
    with open_backend("dask", 1) as one:  # a LocalCluster of one worker
        assert one.workers == 1
        runs["dask, 1 worker"] = run_study(scenario, workers=one)
    planned = runner.study_tasks
    monkeypatch.setattr(runner, "study_tasks", lambda *a: planned(*a)[::-1])
    runs["dask, tasks reversed"] = run_study(scenario, workers=DaskBackend(client))
    for name, result in runs.items():
        assert_same_tallies(result.tally, local.tally)
        assert analyse(result).summary == expected, name


@pytest.mark.slow
def test_a_sweep_gives_the_same_figures_on_a_cluster(client):
    overrides = {**SMALL, "replications": 2, "defendants": 20_000}
    points = [
        load_scenario(CONFIGS / f"california-1995{variant}.yaml", overrides)[0]
        for variant in ("", "-dissent", "-uniform", "")
    ]
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests
    local = evaluate_points(points, reduce_to_means, workers=1, chunk=1)
    on_cluster = evaluate_points(points, reduce_to_means, workers=DaskBackend(client), chunk=1)
    for a, b in zip(local, on_cluster, strict=True):
        assert np.array_equal(np.asarray(a), np.asarray(b))


def reduce_to_means(result):
    """A sweep's figures: each district's counterfactual months summed, as exact integers."""
    histogram = result.tally.counterfactual_histogram.sum(axis=0)
    totals = (histogram * np.arange(histogram.shape[1])).sum(axis=1).astype(float)
    return totals, np.zeros_like(totals)


def worker_pids(client) -> dict[str, int]:
    return client.run(os.getpid)


@pytest.mark.slow
def test_a_killed_worker_is_replaced_and_its_pieces_recomputed_identically(client):
    scenario = small_scenario(defendants=200_000, block_size=20_000, replications=6)
    expected = run_study(scenario).tally
    before = worker_pids(client)
    killed: dict[str, object] = {}

    def kill_a_busy_worker(done: int, total: int) -> None:
        if killed:
            return
        busy = {w: keys for w, keys in client.processing().items() if keys}
        victim = next(iter(busy))
        killed.update(address=victim, pid=before[victim], held=len(busy[victim]), done=done)
        os.kill(before[victim], signal.SIGKILL)

    result = run_study(scenario, workers=DaskBackend(client, on_piece=kill_a_busy_worker))
    assert killed["held"] >= 1
    assert killed["done"] < len(study_tasks(scenario, 0, 2))
    assert_same_tallies(result.tally, expected)
    client.wait_for_workers(2, timeout=60)
    after = worker_pids(client)
    assert killed["pid"] not in after.values()  # a new process took its place
    assert len(after) == 2


@pytest.mark.slow
def test_a_worker_with_other_code_is_refused(client, monkeypatch):
    import sim.run.backends as backends

    monkeypatch.setattr(backends, "worker_identity", lambda: ("another", "3.11", "1", "0"))
    scenario = small_scenario(replications=1, defendants=10_000)
    with pytest.raises(backends.ClusterError, match="results would not be identical"):
        run_study(scenario, workers=DaskBackend(client))


@pytest.mark.slow
def test_ctrl_c_cancels_the_cluster_tasks_and_leaves_no_archive(client, tmp_path):
    address = client.scheduler.address
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sim",
            "run",
            *("--defendants", "2000000", "--replications", "8", "--block-size", "50000"),
            *("--backend", "dask", "--scheduler", address, "--out", "out"),
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    lines = []
    while time.monotonic() < deadline:  # until the first tenth of the pieces is done
        line = process.stderr.readline()
        lines.append(line)
        if "pieces done" in line or not line:
            break
    assert "pieces done" in lines[-1], "".join(lines)

    def tasks_on_the_scheduler(dask_scheduler=None):
        return len(dask_scheduler.tasks)

    assert client.run_on_scheduler(tasks_on_the_scheduler) > 0
    process.send_signal(signal.SIGINT)
    _stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "stopped by SIGINT; nothing was left half-written" in stderr
    assert "Traceback" not in stderr
    assert list(tmp_path.iterdir()) == []  # no archive, no staging folder
    deadline = time.monotonic() + 20
    while client.run_on_scheduler(tasks_on_the_scheduler) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert client.run_on_scheduler(tasks_on_the_scheduler) == 0


@pytest.mark.slow
def test_sim_run_on_dask_prints_the_dashboard_and_pieces_and_archives_the_same_tables(
    client, tmp_path
):
    address = client.scheduler.address
    args = ["run", "--defendants", "30000", "--replications", "3", "--json"]
    local = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "local")])
    assert local.exit_code == 0, local.output
    dask = CliRunner().invoke(
        app, [*args, "--backend", "dask", "--scheduler", address, "--out", str(tmp_path / "dask")]
    )
    assert dask.exit_code == 0, dask.output
    assert f"dask: scheduler {address}, 2 workers" in dask.stderr
    assert "dashboard http" in dask.stderr
    assert "pieces done" in dask.stderr
    for table in sorted((tmp_path / "local" / "tables").glob("*.csv")):
        assert table.read_bytes() == (tmp_path / "dask" / "tables" / table.name).read_bytes()
    varying = ("wall_seconds", "simulation_seconds", "archive")
    a, b = json.loads(local.stdout), json.loads(dask.stdout)
    assert {k: v for k, v in a.items() if k not in varying} == {
        k: v for k, v in b.items() if k not in varying
    }


def test_local_backend_runs_every_task_once_in_any_worker_count():
    tasks = list(range(10))
    for workers in (1, 3):
        got = sorted(LocalBackend(workers).map_unordered(_square, 2, tasks))
        assert got == [(i, 2 * i * i) for i in tasks]


def _square(factor: int, task: int) -> int:
    return factor * task * task
