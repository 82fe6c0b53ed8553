"""Archives: write → verify → reproduce, tampering, refusal to overwrite, interrupted runs,
deterministic tables and figures, the report, and its rendering in headless Chromium."""

import hashlib
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from helpers import SMALL_RUN
from typer.testing import CliRunner

from sim.cli import app
from sim.output.archive import sha256_file

runner = CliRunner()
SMALL = ["--defendants", "3000", "--replications", "3"]
TABLES = (
    "districts",
    "pairwise",
    "variance_shares",
    "selection_vs_policy",
    "inequality",
    "profiles",
    "replications",
    "distributions",
    "pair_differences",
    "gap_by_cell",
    "headline",
    "overall",
    "validation",
    "months_by_category",
)


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def archive(archived_run):
    return archived_run.folder


#: The manifest's entries and their types (``files`` is checked against the folder).
MANIFEST_TYPES = {
    "scenario": str,
    "title": str,
    "archive_name": str,
    "identity": str,
    "config_sha256": str,
    "seed": int,
    "seed_scheme": str,
    "replications": int,
    "defendants": int,
    "defendant_sample": int,
    "created_utc": str,
    "wall_seconds": float,
    "command": str,
    "versions": dict,
    "platform": str,
    "machine": str,
    "git_commit": (str, type(None)),
    "simulation_seconds": float,
    "files": dict,
}


def test_archive_layout_and_manifest(archive):
    for name in (
        "config.resolved.yaml",
        "summary.json",
        "manifest.json",
        "report.md",
        "report.html",
    ):
        assert (archive / name).is_file(), name
    for table in (*TABLES, "defendant_sample"):
        assert (archive / "tables" / f"{table}.parquet").is_file(), table
        assert (archive / "tables" / f"{table}.csv").is_file(), table
    assert list((archive / "figures").glob("*.png"))
    assert list((archive / "figures").glob("*.svg"))
    manifest = json.loads((archive / "manifest.json").read_text())
    assert list(manifest) == list(MANIFEST_TYPES)
    for key, kind in MANIFEST_TYPES.items():
        assert isinstance(manifest[key], kind), (key, manifest[key])
    assert manifest["archive_name"] == archive.name
    assert manifest["defendant_sample"] == 20
    assert (manifest["replications"], manifest["defendants"]) == (3, 3000)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", manifest["created_utc"])
    assert manifest["versions"]["python"]
    assert all(isinstance(v, str | None) for v in manifest["versions"].values())
    assert manifest["config_sha256"] == sha256_file(archive / "config.resolved.yaml")
    # The whole run (load, simulate, archive) takes longer than its simulation.
    assert 0 < manifest["simulation_seconds"] < manifest["wall_seconds"]
    every_file = {p.relative_to(archive).as_posix() for p in archive.rglob("*") if p.is_file()}
    assert set(manifest["files"]) == every_file - {"manifest.json"}
    assert all(re.fullmatch(r"[0-9a-f]{64}", digest) for digest in manifest["files"].values())
    assert not list(archive.rglob("*.pkl"))
    assert not list(archive.rglob("*.pickle"))


def test_default_folder_name(monkeypatch):
    import sim.output.figures

    monkeypatch.setattr(sim.output.figures, "render_figures", lambda *args, **kwargs: [])
    result = run("run", *SMALL, "--json")
    assert result.exit_code == 0, result.output
    folder = Path(json.loads(result.output)["archive"])
    assert folder.parent == Path("results")
    scenario, stamp, digest = folder.name.rsplit("-", 2)
    assert scenario == "california-1995"
    assert stamp.endswith("Z")
    assert len(digest) == 12


def test_verify_intact_archive(archive):
    result = run("verify", archive)
    assert result.exit_code == 0, result.output
    assert "intact" in result.output


def test_reproduce_gives_byte_identical_tables(archive):
    result = run("reproduce", archive)
    assert result.exit_code == 0, result.output
    assert "byte for byte" in result.output


def test_a_tampered_byte_is_detected(archive, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(archive, copy)
    table = copy / "tables" / "districts.parquet"
    data = bytearray(table.read_bytes())
    data[len(data) // 2] ^= 0x01
    table.write_bytes(bytes(data))
    (copy / "figures" / "profiles.png").unlink(missing_ok=True)
    result = run("verify", copy)
    assert result.exit_code == 1
    assert "altered: tables/districts.parquet" in result.output
    # An archive that fails verification is refused, not run (a forged table whose hash was
    # changed with it is tests/output/test_hostile_archives.py's).
    reproduced = run("reproduce", copy)
    assert reproduced.exit_code == 2
    assert "refused to reproduce it" in reproduced.output
    assert "altered: tables/districts.parquet" in reproduced.output


def test_missing_file_is_named(archive, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(archive, copy)
    (copy / "summary.json").unlink()
    result = run("verify", copy)
    assert result.exit_code == 1
    assert "missing: summary.json" in result.output


def test_existing_out_is_refused_and_untouched(archive):
    before = {p: sha256_file(p) for p in archive.rglob("*") if p.is_file()}
    result = run("run", *SMALL, "--out", archive)
    assert result.exit_code == 2
    assert "already exists" in result.output
    assert {p: sha256_file(p) for p in archive.rglob("*") if p.is_file()} == before


def test_an_interrupted_run_leaves_no_folder(tmp_path, monkeypatch):
    import sim.output.figures

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sim.output.figures, "render_figures", interrupted)
    from sim.api import run_and_summarise

    out = tmp_path / "results" / "run"
    with pytest.raises(KeyboardInterrupt):
        run_and_summarise(None, {"defendants": 2000, "replications": 2}, out=out)
    assert not out.exists()
    assert not (tmp_path / "results").exists()  # the parent it created is removed too


@pytest.mark.slow
def test_tables_and_figures_are_byte_identical_across_runs(archive, tmp_path):
    again = tmp_path / "again"
    result = run("run", *SMALL_RUN, "--out", again)
    assert result.exit_code == 0, result.output
    for folder in ("tables", "figures"):
        for path in sorted((archive / folder).iterdir()):
            assert path.read_bytes() == (again / folder / path.name).read_bytes(), path.name
    assert (archive / "config.resolved.yaml").read_bytes() == (
        again / "config.resolved.yaml"
    ).read_bytes()


def test_report_names_assumptions_and_the_reproducing_command(archive):
    markdown = (archive / "report.md").read_text()
    assert "## Appendix B: assumptions" in markdown
    assert "judge.range_position" in markdown
    reproduce = next(line for line in markdown.splitlines() if "sim reproduce" in line)
    assert reproduce.startswith(".venv/bin/sim reproduce ")
    assert reproduce.endswith(archive.name)
    html = (archive / "report.html").read_text()
    assert "data:image/png;base64," in html
    assert "http://" not in html  # self-contained: nothing to fetch
    assert "https://" not in html


def test_report_rebuilds_without_rerunning(archive, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(archive, copy)
    (copy / "report.html").unlink()
    (copy / "report.md").unlink()
    result = run("report", copy)
    assert result.exit_code == 0, result.output
    assert (copy / "report.html").read_bytes() == (archive / "report.html").read_bytes()
    assert (copy / "report.md").read_bytes() == (archive / "report.md").read_bytes()
    assert run("verify", copy).exit_code == 0


def test_verify_of_a_non_archive(tmp_path):
    result = run("verify", tmp_path)
    assert result.exit_code == 2
    assert "not a sim archive" in result.output


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


#: Run in the page after it loads: which figures failed to load and which texts overflow their
#: box or the 1280 px window; the answer is written into the page for --dump-dom to print.
_PAGE_CHECK = """<script>
window.addEventListener("load", () => {
  const width = document.documentElement.clientWidth;
  const images = [...document.images];
  const broken = images.filter((i) => !(i.complete && i.naturalWidth > 0)).map((i) => i.alt);
  const overflowing = [];
  const texts = "h1,h2,h3,p,li,dt,dd,td,th,caption,figcaption,pre,table";
  for (const el of document.querySelectorAll(texts)) {
    const box = el.getBoundingClientRect();
    const clipped = el.tagName !== "TABLE" && el.scrollWidth > el.clientWidth + 1;
    const text = el.tagName + ": " + el.textContent.slice(0, 80);
    if (clipped || box.right > width + 1) overflowing.push(text);
  }
  const out = document.createElement("pre");
  out.id = "page-check";
  out.textContent = JSON.stringify({
    images: images.length, broken, overflowing, width,
    pageWidth: document.documentElement.scrollWidth,
  });
  document.body.appendChild(out);
});
</script>"""


def _chromium(tmp_path, *args):
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}",
            *map(str, args),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


# --- CSV beside every Parquet table --------------------------------------------------------------


def _read_csv_like(csv: Path, like: pd.DataFrame) -> pd.DataFrame:
    """A CSV table read back with the column types of its Parquet twin (an empty field is a
    missing value, a number's or a text's)."""
    text = {
        c: like[c].dtype
        for c in like.columns
        if not (pd.api.types.is_numeric_dtype(like[c]) or pd.api.types.is_bool_dtype(like[c]))
    }
    frame = pd.read_csv(csv, keep_default_na=False, na_values=[""], dtype=text)
    return frame.astype(like.dtypes.to_dict())


def test_every_parquet_table_has_a_csv_with_the_same_content(archive):
    tables = archive / "tables"
    parquet = sorted(p.stem for p in tables.glob("*.parquet"))
    assert parquet == sorted(p.stem for p in tables.glob("*.csv"))
    manifest = json.loads((archive / "manifest.json").read_text())
    for name in parquet:
        assert f"tables/{name}.csv" in manifest["files"], name
        expected = pd.read_parquet(tables / f"{name}.parquet")
        # CSV writes a missing text as an empty field: no table may hold an empty text, or the
        # two would be confused.
        for column in expected.columns:
            if not pd.api.types.is_numeric_dtype(expected[column]):
                assert not (expected[column] == "").any(), (name, column)
        got = _read_csv_like(tables / f"{name}.csv", expected)
        assert list(got.columns) == list(expected.columns), name
        # Floats are written as their shortest repr, so they read back exactly.
        pd.testing.assert_frame_equal(got, expected, check_exact=True, check_dtype=False)


def test_csv_bytes_are_deterministic_and_round_trip():
    from sim.output.tables import table_csv

    frame = pd.DataFrame(
        {
            "name": ['C.D. Cal., "fast track"', "§ 2L1.2 − 16", ""],
            "estimate": [0.1 + 0.2, float("nan"), 1e-300],
            "count": [1, 2, 3],
            "flag": [True, False, True],
        }
    )
    data = table_csv(frame)
    assert data == table_csv(frame.copy())
    lines = data.decode("utf-8").split("\n")
    assert lines[0] == "name,estimate,count,flag"
    assert lines[1] == '"C.D. Cal., ""fast track""",0.30000000000000004,1,True'
    assert lines[2] == "§ 2L1.2 − 16,,2,False"
    assert data.endswith(b"\n")
    assert b"\r" not in data
    back = pd.read_csv(io.BytesIO(data), keep_default_na=False, na_values={"estimate": [""]})
    assert back["estimate"][0] == 0.1 + 0.2
    assert back["estimate"][2] == 1e-300


def _forge(copy: Path, path: str, data: bytes | None) -> None:
    """Change (None: remove) an archive's file and its manifest entry together, so that the
    archive still verifies."""
    manifest = json.loads((copy / "manifest.json").read_text())
    if data is None:
        (copy / path).unlink()
        del manifest["files"][path]
    else:
        (copy / path).write_bytes(data)
        manifest["files"][path] = hashlib.sha256(data).hexdigest()
    (copy / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def test_reproduce_compares_the_csv_tables_byte_for_byte(archive, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(archive, copy)
    csv = (copy / "tables" / "districts.csv").read_bytes()
    # One float written with one digit fewer reads as a nearly equal number: still a difference.
    header, first, rest = csv.split(b"\n", 2)
    fields = first.split(b",")
    fields[4] = fields[4][:-1] or b"0"
    _forge(copy, "tables/districts.csv", b"\n".join([header, b",".join(fields), rest]))
    _forge(copy, "tables/pairwise.csv", None)
    assert run("verify", copy).exit_code == 0
    result = run("reproduce", copy)
    assert result.exit_code == 1, result.output
    assert "differs: tables/districts.csv" in result.output
    assert "missing from the archive: tables/pairwise.csv" in result.output
    assert "parquet" not in result.output


@pytest.mark.slow
@pytest.mark.skipif(
    CHROMIUM is None, reason="Debian package chromium is not installed (.ci/run installs it)"
)
def test_report_html_renders_in_headless_chromium(archive, tmp_path):
    """At 1280 px: every figure loads, no text overflows its box or the window, and the page is
    not blank; screenshots (top of the report and the whole page) are kept in ``tmp_path``."""
    from PIL import Image

    page = tmp_path / "report.html"
    html = (archive / "report.html").read_text(encoding="utf-8")
    page.write_text(html.replace("</body>", _PAGE_CHECK + "</body>"), encoding="utf-8")
    dumped = _chromium(tmp_path, "--window-size=1280,1000", "--virtual-time-budget=10000",
                       "--dump-dom", page.as_uri())  # fmt: skip
    found = re.search(r'<pre id="page-check">(.*?)</pre>', dumped.stdout, re.S)
    assert found, f"the page check did not run: {dumped.stderr[-500:]}"
    check = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    figures = len(list((archive / "figures").glob("*.png")))
    assert check["images"] == figures > 0
    assert check["broken"] == []
    assert check["overflowing"] == []
    assert check["pageWidth"] <= check["width"] == 1280

    top, whole = tmp_path / "report-top.png", tmp_path / "report-full.png"
    _chromium(tmp_path, "--window-size=1280,1000", f"--screenshot={top}",
              (archive / "report.html").resolve().as_uri())  # fmt: skip
    _chromium(tmp_path, "--window-size=1280,12000", f"--screenshot={whole}",
              (archive / "report.html").resolve().as_uri())  # fmt: skip
    for shot in (top, whole):
        assert shot.is_file(), "Chromium wrote no screenshot"
        image = Image.open(shot).convert("L")
        assert image.size[0] == 1280
        low, high = image.getextrema()
        assert high - low > 100, "the rendered report is blank"
        histogram = image.histogram()
        assert sum(histogram[:128]) / sum(histogram) > 0.001, "no text or figures were drawn"
