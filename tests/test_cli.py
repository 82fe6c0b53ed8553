"""End-to-end CLI tests, in-process with Typer's CliRunner, plus ``python -m sim`` once."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "banuelos-rodriguez.yaml"
runner = CliRunner()

VALID = """\
manual: 1995
offense_date: 1995-08-01
conviction: "1326(b)(2)"
acceptance: 3
early_disposition_levels: 0
status: none
priors:
  - kind: drug_trafficking
    felony: true
    aggravated_felony: true
    sentence_imposed_months: 36
    imposed_years_ago: 8
    before_first_removal: true
"""


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def write(tmp_path, text, name="case.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_calc_prints_the_worksheet():
    result = run("calc", EXAMPLE)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("§ 2L1.2(b)(2) +16") for line in lines)
    assert any(line.startswith("§ 3E1.1 −3") for line in lines)
    for expected in (
        "Total offense level 21",
        "Criminal history category V (10 points) (given in the case file)",
        "Guideline range 70–87 months (Zone D)",
        "Statutory maximum 240 months (8 U.S.C. § 1326(b)(2))",
        "Final range 70–87 months",
    ):
        assert expected in lines


def test_calc_json_has_the_contract_keys():
    result = run("calc", EXAMPLE, "--json")
    assert result.exit_code == 0, result.output
    worksheet = json.loads(result.output)
    assert worksheet["manual"] == 1995
    assert worksheet["base_offense_level"] == 8
    assert [a["rule"] for a in worksheet["adjustments"]] == ["§ 2L1.2(b)(2)", "§ 3E1.1"]
    assert all(set(a) == {"rule", "levels", "reason"} for a in worksheet["adjustments"])
    assert worksheet["total_offense_level"] == 21
    assert worksheet["criminal_history_points"] == 10
    assert worksheet["criminal_history_category"] == "V"
    assert worksheet["guideline_range_months"] == [70, 87]
    assert worksheet["statutory_maximum_months"] == 240
    assert worksheet["final_range_months"] == [70, 87]
    assert worksheet["zone"] == "D"


def test_calc_reads_json_case_files(tmp_path):
    import yaml

    data = yaml.safe_load(VALID)
    data["offense_date"] = data["offense_date"].isoformat()
    path = write(tmp_path, json.dumps(data), "case.json")
    result = run("calc", path, "--json")
    assert result.exit_code == 0, result.output
    # 8 + 16 - 3 = 21; one (a) sentence, 3 points, category II -> 41-51.
    assert json.loads(result.output)["final_range_months"] == [41, 51]


def test_life_is_null_in_json(tmp_path):
    # Offense level 43 cannot be reached by § 2L1.2, so check the table command instead.
    result = run("table", "--manual", 1995)
    assert result.output.splitlines()[43] == "43,life,life,life,life,life,life"
    assert (
        result.output.splitlines()[42] == "42,360-life,360-life,360-life,360-life,360-life,360-life"
    )


def test_table_csv():
    result = run("table", "--manual", 2025, "--format", "csv")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "offense_level,I,II,III,IV,V,VI"
    assert len(lines) == 44
    assert lines[21] == "21,37-46,41-51,46-57,57-71,70-87,77-96"


def test_table_markdown():
    result = run("table", "--manual", 1995, "--format", "markdown")
    assert result.exit_code == 0
    assert "| 24 | 51-63 | 57-71 | 63-78 | 77-96 | 92-115 | 100-125 |" in result.output


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("table", "--manual", 1994), "--manual: 1994"),
        (("table", "--manual", 2026), "allowed: 1995-2025"),
    ],
)
def test_table_bad_manual(args, fragment):
    result = run(*args)
    assert result.exit_code == 2
    assert fragment in result.output


BAD_CASES = {
    "unknown edition": (
        VALID.replace("manual: 1995", "manual: 1990"),
        ["manual", "1990", "greater than or equal to 1995"],
    ),
    "unknown prior kind": (
        VALID.replace("kind: drug_trafficking", "kind: robbery"),
        ["priors[0].kind", "'robbery'", "'drug_trafficking'"],
    ),
    "negative months": (
        VALID.replace("sentence_imposed_months: 36", "sentence_imposed_months: -4"),
        ["priors[0].sentence_imposed_months", "-4", "greater than or equal to 0"],
    ),
    "category VII": (
        VALID + "criminal_history_category: VII\n",
        ["criminal_history_category", "'VII'", "'VI'"],
    ),
    "five early-disposition levels": (
        VALID.replace("manual: 1995", "manual: 2010").replace(
            "early_disposition_levels: 0", "early_disposition_levels: 5"
        ),
        ["early_disposition_levels", "5", "less than or equal to 4"],
    ),
    "early disposition before 2003": (
        VALID.replace("early_disposition_levels: 0", "early_disposition_levels: 2"),
        ["early_disposition_levels: 2", "1995 Manual", "allowed: 0"],
    ),
    "unknown key": (
        VALID + "acceptence: 3\n",
        ["acceptence", "unknown key", "allowed keys:", "acceptance"],
    ),
    "unknown prior key": (
        VALID + "    sentence_months: 3\n",
        ["priors[0].sentence_months", "unknown key", "sentence_imposed_months"],
    ),
    "string for a number": (
        VALID.replace("acceptance: 3", 'acceptance: "3"'),
        ["acceptance", "'3'"],
    ),
    "acceptance 1": (
        VALID.replace("acceptance: 3", "acceptance: 1"),
        ["acceptance", "1", "0, 2 or 3"],
    ),
    "malformed YAML": (VALID.replace("status: none", "status: [none"), ["malformed YAML", "line"]),
    "duplicate key": (VALID + "manual: 2016\n", ["duplicate key 'manual'"]),
    "missing conviction": (
        VALID.replace('conviction: "1326(b)(2)"\n', ""),
        ["conviction", "required key is missing"],
    ),
    "misdemeanor kind marked felony": (
        VALID.replace("kind: drug_trafficking", "kind: misdemeanor"),
        ["priors[0].felony", "contradicts kind: misdemeanor"],
    ),
    "released before imposed": (
        VALID + "    released_years_ago: 9\n",
        ["priors[0].released_years_ago", "released 9 years ago but imposed 8 years ago"],
    ),
    "removed after conviction contradicts the first removal": (
        VALID + "    removed_after_conviction: false\n",
        ["priors[0].before_first_removal", "contradicts removed_after_conviction: false"],
    ),
    "first removal order required from 2016": (
        VALID.replace("manual: 1995", "manual: 2016").replace(
            "    before_first_removal: true\n", ""
        ),
        ["priors[0].before_first_removal", "required under the 2016 Manual"],
    ),
    "months and days both": (
        VALID + "    sentence_imposed_days: 30\n",
        ["priors[0].sentence_imposed_months", "given together with sentence_imposed_days"],
    ),
    "five decimals of a month": (
        VALID.replace("sentence_imposed_months: 36", "sentence_imposed_months: 1.97125"),
        ["priors[0].sentence_imposed_months", "more than 4 decimal places"],
    ),
    "1326(b) before 1988": (
        VALID.replace("offense_date: 1995-08-01", "offense_date: 1987-01-01"),
        ["1326(b)(2)", "Nov 18, 1988"],
    ),
    "not a mapping": ("- 1\n- 2\n", ["must hold a mapping"]),
    "empty file": ("", ["the file is empty"]),
    "impossible date": (
        VALID.replace("1995-08-01", "1995-13-01"),
        ["line 2", "invalid date '1995-13-01'"],
    ),
    "boolean as number": (
        VALID.replace("    felony: true", "    felony: 1"),
        ["priors[0].felony", "1", "allowed: true or false"],
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_CASES))
def test_bad_case_file_is_exit_2_with_file_field_and_value(tmp_path, name):
    text, fragments = BAD_CASES[name]
    path = write(tmp_path, text)
    result = run("calc", path)
    assert result.exit_code == 2, result.output
    assert str(path) in result.output
    for fragment in fragments:
        assert fragment in result.output, (fragment, result.output)
    assert "Traceback" not in result.output


def test_every_problem_of_a_file_is_reported_at_once(tmp_path):
    # A type error, an unknown key and two contradictions: one run, four lines.
    text = (
        VALID.replace("acceptance: 3", 'acceptance: "3"').replace(
            "kind: drug_trafficking", "kind: misdemeanor"
        )
        + "    released_years_ago: 9\n"
        + "acceptence: 3\n"
    )
    result = run("calc", write(tmp_path, text))
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    for fragment in (
        "acceptance: '3'",
        "acceptence: unknown key",
        "priors[0].felony",
        "priors[0].released_years_ago",
    ):
        assert sum(fragment in line for line in lines) == 1, (fragment, result.output)


def test_before_first_removal_is_optional_before_2016(tmp_path):
    text = VALID.replace("    before_first_removal: true\n", "")
    result = run("calc", write(tmp_path, text))
    assert result.exit_code == 0, result.output


def test_missing_file(tmp_path):
    result = run("calc", tmp_path / "nope.yaml")
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_yaml_tags_are_refused_and_never_executed(tmp_path):
    marker = tmp_path / "executed"
    path = write(tmp_path, VALID + f'name: !!python/object/apply:os.system ["touch {marker}"]\n')
    result = run("calc", path)
    assert result.exit_code == 2
    assert "YAML tag" in result.output
    assert "not allowed" in result.output
    assert not marker.exists()


@pytest.mark.slow
def test_python_dash_m_and_real_exit_code(tmp_path):
    bad = write(tmp_path, VALID.replace("kind: drug_trafficking", "kind: robbery"))
    completed = subprocess.run(
        [sys.executable, "-m", "sim", "calc", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert "priors[0].kind" in completed.stderr
    assert "Traceback" not in completed.stderr


# --- a command line a newcomer can drive -----------------------------------------------------

#: Box-drawing characters rich draws tables with.
BOXES = set("┏┓┗┛┃━┡┩╇┳┻│─└┘┌┐├┤┼╭╮╰╯")
SMALL_RUN_ARGS = ["--defendants", "2000", "--replications", "2", "--seed", "7"]


def _flat(text):
    """Help text without its boxes, on one line (rich wraps it at the terminal's width)."""
    return " ".join("".join(" " if c in BOXES else c for c in text).split())


@pytest.mark.parametrize(
    ("command", "example"),
    [
        ((), "sim run configs/california-1995.yaml --defendants 20000"),
        (("run",), "sim run configs/california-1995.yaml --defendants 20000 --seed 7"),
        (("calc",), "sim calc examples/banuelos-rodriguez.yaml"),
        (("table",), "sim table --manual 2018 --format markdown"),
        (("validate",), "sim validate configs/california-1995.yaml"),
        (("verify",), "sim verify results/try"),
        (("reproduce",), "sim reproduce results/try"),
        (("report",), "sim report results/try"),
    ],
)
def test_help_shows_an_example(command, example):
    result = run(*command, "--help")
    assert result.exit_code == 0, result.output
    assert example in _flat(result.output)


def test_run_help_shows_every_default():
    text = _flat(run("run", "--help").output)
    for option, default in [
        ("--workers", "[default: 1]"),
        ("--max-replications", "[default: 1000]"),
        ("--defendant-sample", "[default: 0]"),
        ("--defendants", "[default: (the scenario's study: setting)]"),
        ("--out", "[default: (results/<scenario>-<UTC time>-<config hash>)]"),
        ("CONFIG", "[default: (the built-in default, configs/california-1995.yaml)]"),
    ]:
        assert default in text, option
    assert text.count("[default: (the scenario's study: setting)]") == 4  # and the seed, ...


def test_piped_run_output_is_plain_readable_at_80_columns_and_ends_with_the_report(
    tmp_path, monkeypatch
):
    import sim.output.figures

    monkeypatch.setattr(sim.output.figures, "render_figures", lambda *args, **kwargs: [])
    out = tmp_path / "run"
    result = run("run", *SMALL_RUN_ARGS, "--out", out)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert not BOXES & set(result.stdout)
    # (The last two lines name the archive: as long as its path.)
    assert max(len(line) for line in lines[:-2]) <= 80
    assert all(line == line.rstrip() for line in lines)
    # A table that fits is aligned columns, one row per line, not squeezed cell by cell.
    row = next(line for line in lines if line.startswith("CAC − CAS"))
    assert row.count("±") == 4
    assert any(set(line) <= {"-", " "} and line for line in lines)  # the rule under a header
    # One that does not fit is a block per row: the district, then "label  value" lines.
    at = lines.index("  CAC Central District of California")
    assert lines[at + 1].split()[0] == "prosecuted"
    assert lines[-2] == f"results: {out}"
    assert lines[-1] == f"report: {out / 'report.html'}"
    assert (out / "report.html").is_file()
    assert "s simulating)" in result.stdout


def test_wall_seconds_is_the_whole_run(archived_run):
    printed = archived_run.printed
    manifest = json.loads((archived_run.folder / "manifest.json").read_text(encoding="utf-8"))
    # The archive (figures, report) is written after the simulation, inside the whole run.
    assert printed["wall_seconds"] > printed["simulation_seconds"] > 0
    assert manifest["simulation_seconds"] == printed["simulation_seconds"]
    assert printed["simulation_seconds"] < manifest["wall_seconds"] <= printed["wall_seconds"]


def test_a_note_is_printed_while_kernels_compile_on_first_use(tmp_path, monkeypatch):
    import sim.console
    import sim.output.figures

    monkeypatch.setattr(sim.output.figures, "render_figures", lambda *args, **kwargs: [])
    monkeypatch.setattr(sim.console, "kernels_compiled", lambda *args: False)
    result = run("run", *SMALL_RUN_ARGS, "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    assert "compiling the simulation kernels" in result.stderr
    assert "once" in result.stderr
    # --json prints the JSON alone.
    printed = run("run", *SMALL_RUN_ARGS, "--out", tmp_path / "json", "--json")
    assert printed.exit_code == 0, printed.output
    json.loads(printed.output)


def test_kernels_compiled_reads_the_cache_folders(tmp_path):
    from sim.console import first_use_note, kernels_compiled

    assert not kernels_compiled(tmp_path / "absent")
    for room in ("guidelines", "model", "population"):
        (tmp_path / f"{room}_0123abcd").mkdir()
        (tmp_path / f"{room}_0123abcd" / "engine.kernel-85.py311.nbi").write_bytes(b"")
    assert kernels_compiled(tmp_path, ("guidelines",))
    assert not kernels_compiled(tmp_path)  # no run_ folder yet
    (tmp_path / "run_0123abcd").mkdir()
    assert not kernels_compiled(tmp_path)  # a folder without an index is not a kernel
    (tmp_path / "run_0123abcd" / "tally._tally_kernel-217.py311.nbi").write_bytes(b"")
    assert kernels_compiled(tmp_path)
    assert not first_use_note(tmp_path)


def test_plain_tables_align_when_they_fit_and_list_rows_when_not():
    from sim.console import _Grid

    narrow = _Grid("Gaps", ("pair", "mean months", "share"))
    narrow.add_row("CAC − CAS", "9.00 ± 0.105", "0.18")
    assert narrow.plain().splitlines() == [
        "Gaps",
        "pair        mean months  share",
        "---------  ------------  -----",
        "CAC − CAS  9.00 ± 0.105   0.18",
    ]
    wide = _Grid("Districts", ("district", *(f"figure number {k}" for k in range(6))))
    wide.add_row("CAC Central District of California", *(f"{k}.0 ± 0.10" for k in range(6)))
    lines = wide.plain().splitlines()
    assert lines[:3] == [
        "Districts",
        "  CAC Central District of California",
        "    figure number 0  0.0 ± 0.10",
    ]
    assert max(len(line) for line in lines) <= 80
