"""A corpus of hostile inputs: scenarios, case files and command-line values an adversarial pass
tried (issue 11). Each case states the exit code and the message fragments it must produce; none
may print a traceback, echo a file's contents or leave anything behind. Archives have their own
corpus (tests/output/test_hostile_archives.py); signals and races run against real processes
(tests/test_faults.py).
"""

from __future__ import annotations

import copy
import os
import signal
import stat
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from sim.cli import app
from sim.model.scenario import DEFAULT_SCENARIO, load_scenario, resolve_scenario_mapping
from sim.run.runner import most_replications

runner = CliRunner()
BASE = resolve_scenario_mapping(DEFAULT_SCENARIO)
SMALL = ["--defendants", "1000", "--replications", "2"]
SECRET = "s3cr3t-root-password-hash"

CASE = """\
manual: 1995
offense_date: 1995-08-01
conviction: "1326(b)(2)"
priors: []
"""


def scenario(*changes: tuple[tuple, object]) -> dict:
    """The default scenario with ``(path, value)`` changes (a value of ``...`` deletes)."""
    data = copy.deepcopy(BASE)
    for path, value in changes:
        node = data
        for key in path[:-1]:
            node = node[key]
        if value is ...:
            del node[path[-1]]
        else:
            node[path[-1]] = value
    return data


def number(value):
    return {"value": value, "unit": "x", "source": "hostile corpus"}


CAC_WEIGHT = ("districts", "CAC", "caseload_weight")
DEPARTURES = ("judge", "departures")

#: name: (scenario mapping, exit code, fragments every one of which the output holds).
SCENARIOS = {
    "departure factor 1e300 (overflowed to 0 months)": (
        scenario(
            (DEPARTURES, {"above_rate": number(0.1), "above_fraction": number(1.0e300)}),
        ),
        2,
        ["judge.departures.above_fraction.value", "less than or equal to 10"],
    ),
    "departure factor infinite": (
        scenario((DEPARTURES, {"above_rate": number(0.1), "above_fraction": number(float("inf"))})),
        2,
        ["above_fraction.value", "finite number"],
    ),
    "caseload weight NaN": (
        scenario((CAC_WEIGHT, number(float("nan")))),
        2,
        ["districts.CAC.caseload_weight.value", "finite number"],
    ),
    "mean removals infinite": (
        scenario((("population", "mean_prior_removals"), number(float("inf")))),
        2,
        ["population.mean_prior_removals.value", "finite number"],
    ),
    "dispersion zero": (
        scenario((("population", "conviction_dispersion"), number(0.0))),
        2,
        ["population.conviction_dispersion.value", "greater than 0"],
    ),
    "offense date a number": (
        scenario((("offense_date",), 0)),
        2,
        ["offense_date: 0", "allowed: a date such as 1995-08-01"],
    ),
    "offense date before § 1326(b) existed": (
        scenario((("offense_date",), "1987-06-01")),
        2,
        ["offense_date", "1987-06-01"],
    ),
    "unknown key in a district": (
        scenario((("districts", "CAC", "fast_track"), True)),
        2,
        ["districts.CAC.fast_track: unknown key", "allowed keys: name, caseload_weight"],
    ),
    "unknown key in an offer": (
        scenario((("districts", "CAS", "offers", 0, "discount"), 3)),
        2,
        ["districts.CAS.offers[0].discount: unknown key", "allowed keys: name, description"],
    ),
    "unknown key in a profile": (
        scenario((("profiles", "banuelos-rodriguez", "nickname"), "x")),
        2,
        ["profiles.banuelos-rodriguez.nickname: unknown key", "allowed keys:"],
    ),
    "a population block left out": (
        scenario((("population",), {})),
        2,
        ["population: ", "required keys are missing", "more (configs/california-1995.yaml"],
    ),
    "a number where a mapping belongs": (
        scenario((CAC_WEIGHT, 275)),
        2,
        ["caseload_weight: 275: not a mapping; allowed: a mapping with keys value, unit"],
    ),
}


@pytest.fixture
def no_figures(monkeypatch):
    """Runs whose figures are not the subject skip rendering them (most of a run's time)."""
    import sim.output.figures

    monkeypatch.setattr(sim.output.figures, "render_figures", lambda *args, **kwargs: [])


def write(tmp_path: Path, data: dict | str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def assert_clean(result, code: int, fragments=()) -> None:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert SECRET not in result.output
    for fragment in fragments:
        assert fragment in result.output, (fragment, result.output)
    for line in result.output.splitlines():
        assert len(line) <= 500, line  # a line or two, never a dumped mapping


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_hostile_scenario(tmp_path, name):
    data, code, fragments = SCENARIOS[name]
    path = write(tmp_path, data)
    out = tmp_path / "out"
    assert_clean(runner.invoke(app, ["validate", str(path)]), code, fragments)
    result = runner.invoke(app, ["run", str(path), *SMALL, "--out", str(out)])
    assert_clean(result, code, fragments)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenario.yaml"]


#: name: (YAML text, fragments).
MALFORMED = {
    "a key that is a list": ("? [a, b]\n: 1\n", ["line 1", "a key that is a list or a mapping"]),
    "nested 10,000 deep": (
        "a: " + "[" * 10_000 + "]" * 10_000 + "\n",
        ["malformed YAML: nested too deeply; allowed: at most 50 levels"],
    ),
    "a 5,000-digit integer": ("seed: " + "9" * 5_000 + "\n", ["an integer of 5000 digits"]),
    "an alias bomb": (
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        )
        + "study: *i\n",
        ["expands to more than 200,000 values"],
    ),
    "a duplicate key": ("title: a\ntitle: b\n", ["duplicate key 'title'"]),
    "a Python tag": ("title: !!python/object/apply:os.system ['true']\n", ["scenario.yaml"]),
    "not a mapping": ("- a\n- b\n", ["must hold a mapping", "found list"]),
    "an impossible date": ("offense_date: 1995-02-30\n", ["invalid date '1995-02-30'"]),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_yaml(tmp_path, name):
    text, fragments = MALFORMED[name]
    path = write(tmp_path, text)
    assert_clean(runner.invoke(app, ["validate", str(path)]), 2, fragments)


def test_json_case_file_with_a_duplicate_key_is_refused(tmp_path):
    path = write(tmp_path, '{"manual": 1995, "manual": 2018, "conviction": "1326(a)"}', "c.json")
    assert_clean(runner.invoke(app, ["calc", str(path)]), 2, ["duplicate key 'manual'"])


def test_case_file_offense_date_as_a_number_is_refused(tmp_path):
    path = write(tmp_path, CASE.replace("1995-08-01", "0"), "case.yaml")
    assert_clean(runner.invoke(app, ["calc", str(path)]), 2, ["offense_date: 0", "a date"])


def test_extends_names_a_scenario_file_and_never_echoes_another(tmp_path):
    secret = tmp_path / "shadow"
    secret.write_text(f"root: {SECRET}\n", encoding="utf-8")
    path = write(tmp_path, f"extends: {secret}\ntitle: x\n")
    assert_clean(runner.invoke(app, ["validate", str(path)]), 2, ["extends", ".yaml"])


@pytest.mark.parametrize("kind", ["symlink loop", "/dev/zero", "FIFO", "folder", "missing"])
def test_config_must_be_a_regular_file(tmp_path, kind):
    path = tmp_path / "scenario.yaml"
    if kind == "symlink loop":
        path.symlink_to(tmp_path / "scenario.yaml")
    elif kind == "/dev/zero":
        path.symlink_to("/dev/zero")
    elif kind == "FIFO":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    signal.alarm(20)  # a FIFO must not block: fail the test rather than hang
    try:
        result = runner.invoke(app, ["validate", str(path)])
    finally:
        signal.alarm(0)
    assert_clean(result, 2, ["scenario.yaml"])


def test_a_huge_config_is_refused_unread(tmp_path):
    path = tmp_path / "scenario.yaml"
    with path.open("wb") as handle:
        handle.truncate(2 << 20)  # 2 MiB of zeros, sparse
    result = runner.invoke(app, ["validate", str(path)])
    assert_clean(result, 2, ["scenario.yaml", "2,097,152 bytes; allowed: at most 1,048,576"])


def test_rich_markup_and_terminal_escapes_in_a_title_are_printed_as_text(tmp_path, no_figures):
    title = "[/bold] [red]x \x1b[2J :smile:"
    path = write(tmp_path, scenario((("title",), title)))
    result = runner.invoke(app, ["run", str(path), *SMALL, "--out", str(tmp_path / "out")])
    assert_clean(result, 0, ["[/bold] [red]x \\x1b[2J :smile:"])
    assert "\x1b" not in result.output


# --- command-line values --------------------------------------------------------------------

#: name: (arguments after ``sim run``, fragments).
COMMAND_LINES = {
    "replications over the maximum": (
        ["--replications", "200000"],
        ["--replications: 200000", "less than or equal to 100000"],
    ),
    "replications over the tally budget": (
        ["--replications", "20000"],
        # The most that fit the budget (9,506 for the default scenario's tallies in issue 12).
        [
            "--replications: 20,000 replications",
            "GiB of tallies",
            f"at most {most_replications(load_scenario()[0]):,}",
        ],
    ),
    "a block too small": (["--block-size", "5"], ["--block-size: 5", "greater than or equal"]),
    "a target of zero": (["--target-mcse", "0"], ["--target-mcse"]),
    "--out already there": (["--out", "."], ["--out", "not a folder name"]),
    "--out under /proc": (["--out", "/proc/sim-test/out"], ["--out", "cannot be written"]),
    "--out a 255-byte name": (["--out", "a" * 255], ["--out", "a name of 255 bytes"]),
}


@pytest.mark.parametrize("name", sorted(COMMAND_LINES))
def test_bad_command_line_values_fail_before_any_work(monkeypatch, name):
    import sim.api

    def never(*args, **kwargs):
        raise AssertionError("the run started")

    monkeypatch.setattr(sim.api, "run_study", never)
    arguments, fragments = COMMAND_LINES[name]
    result = runner.invoke(app, ["run", "--defendants", "1000", *arguments])
    assert_clean(result, 2, fragments)
    assert not Path("results").exists()


def test_out_inside_an_archive_dangling_or_unwritable_fails_before_work(
    tmp_path, monkeypatch, archived_run
):
    import sim.api

    monkeypatch.setattr(sim.api, "run_study", lambda *a, **k: pytest.fail("the run started"))
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    cases = [
        (archived_run.folder / "inner", "is inside the archive"),
        (dangling, "already exists"),
    ]
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        cases.append((locked / "out", "cannot be written"))
    for out, fragment in cases:
        result = runner.invoke(app, ["run", *SMALL, "--out", str(out)])
        assert_clean(result, 2, ["--out", fragment])
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.slow
def test_an_archive_honours_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        result = runner.invoke(app, ["run", *SMALL, "--out", str(tmp_path / "out")])
    finally:
        os.umask(old)
    assert_clean(result, 0)
    for path in [tmp_path / "out", *(tmp_path / "out").rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o027 == 0, (path, oct(mode))
        assert mode & 0o700 == (0o700 if path.is_dir() else 0o600), (path, oct(mode))


def test_a_stale_staging_folder_of_a_dead_run_is_removed_and_a_live_one_kept(tmp_path, no_figures):
    # A process number that is not running: one past the highest running one.
    running = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]
    if not running:
        pytest.skip("needs /proc")
    dead = max(running) + 1
    stale = tmp_path / f".old-run.{dead}.abcdefgh.partial"
    live = tmp_path / f".other-run.{os.getppid()}.abcdefgh.partial"
    for folder in (stale, live):
        folder.mkdir()
        (folder / "summary.json").write_text("{}")
    result = runner.invoke(app, ["run", *SMALL, "--out", str(tmp_path / "out")])
    assert_clean(result, 0)
    assert not stale.exists()
    assert live.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [live.name, "out"]


def test_target_mcse_never_doubles_past_what_fits(monkeypatch, no_figures):
    import json

    import sim.run.runner
    from sim.model.scenario import load_scenario

    small, _ = load_scenario(None, {"defendants": 50})
    budget = sim.run.runner.tally_bytes(small, 1) * 8  # eight replications fit
    monkeypatch.setattr(sim.run.runner, "TALLY_BUDGET_BYTES", budget)
    args = ["run", "--defendants", "50", "--replications", "2", "--json", "--out", "t"]
    result = runner.invoke(app, [*args, "--target-mcse", "1e-9", "--max-replications", "100000"])
    assert_clean(result, 0)
    target = json.loads(result.output)["target"]
    assert target["max_replications"] == target["replications"] == 8
    assert not target["reached"]


def test_verify_notes_a_stale_staging_folder_beside_the_archive(tmp_path, archived_run):
    import shutil

    running = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]
    if not running:
        pytest.skip("needs /proc")
    shutil.copytree(archived_run.folder, tmp_path / "archive")
    stale = tmp_path / f".archive.{max(running) + 1}.abcdefgh.partial"
    stale.mkdir()
    result = runner.invoke(app, ["verify", str(tmp_path / "archive")])
    assert_clean(result, 0, ["intact", f"note: {stale}: left by a killed run"])
    assert stale.exists()  # verify only reports
