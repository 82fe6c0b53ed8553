"""Archives: write → verify → reproduce, tampering, refusal to overwrite, interrupted runs,
deterministic tables and figures, the report, and its rendering in headless Chromium."""

import json
import re
import shutil
import subprocess
from pathlib import Path

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
