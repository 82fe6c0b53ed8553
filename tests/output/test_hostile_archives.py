"""Hostile archives: ``sim verify``, ``sim reproduce`` and ``sim report`` on archives built to
attack them (docs/archives.md).

Each case copies the shared small archive (``archived_run``), mutates the copy, runs one command
in-process and states its exact exit code and a fragment of its message: 0 intact or done, 1
problems found (verify) or tables that differ (reproduce), 2 refused or unusable. No command may
end in a traceback, hang, follow a link, or write outside the archive.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import signal
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from sim.cli import app
from sim.output.archive import resolved_yaml

runner = CliRunner()

#: Seconds any one test may take before it counts as hung (a FIFO read, a link loop).
GUARD_SECONDS = 60


@pytest.fixture(autouse=True)
def _no_hang():
    """Fail, rather than hang, a test that blocks (signal.alarm; the main thread only)."""

    def hung(signum, frame):
        raise TimeoutError(f"hung for {GUARD_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(GUARD_SECONDS)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def sim(*args: object):
    """Run a command in-process; it must end with an exit code, never an exception."""
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        repr(result.exception),
        result.output,
    )
    return result


@pytest.fixture
def folder(archived_run, tmp_path) -> Path:
    """A copy of the shared small archive, to mutate."""
    copy = tmp_path / "archive"
    shutil.copytree(archived_run.folder, copy, symlinks=True)
    return copy


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def write_manifest(folder: Path, manifest: dict) -> str:
    data = (json.dumps(manifest, indent=2) + "\n").encode()
    (folder / "manifest.json").write_bytes(data)
    return sha(data)


def forge(folder: Path, files: dict[str, bytes | None], **entries) -> str:
    """A consistent forgery: write (or, for None, delete) files and set their hashes and the
    given entries in the manifest; return the forged manifest's SHA-256."""
    manifest = read_manifest(folder)
    for relative, data in files.items():
        if data is None:
            (folder / relative).unlink()
            del manifest["files"][relative]
        else:
            (folder / relative).write_bytes(data)
            manifest["files"][relative] = sha(data)
    manifest.update(entries)
    return write_manifest(folder, manifest)


def forge_config(folder: Path, change: Callable[[dict], None]) -> str:
    """Change the resolved config and forge every hash and entry that depends on it."""
    config = yaml.safe_load((folder / "config.resolved.yaml").read_text(encoding="utf-8"))
    change(config)
    data = resolved_yaml(config)
    return forge(
        folder,
        {"config.resolved.yaml": data},
        config_sha256=sha(data),
        title=config["title"],
    )


def parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False, engine="pyarrow")
    return buffer.getvalue()


def secret(tmp_path: Path, text: str = "TOPSECRET do not print") -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(text, encoding="utf-8")
    return path


# --- The corpus: (attack, mutation, command, exit code, message fragment) -------------------


def _symlinked_summary_to_identical_copy(folder, tmp_path):
    copy = tmp_path / "summary-copy.json"
    shutil.copyfile(folder / "summary.json", copy)
    (folder / "summary.json").unlink()
    (folder / "summary.json").symlink_to(copy)


def _symlinked_figure_to_secret(folder, tmp_path):
    target = secret(tmp_path)
    (folder / "figures" / "profiles.png").unlink()
    (folder / "figures" / "profiles.png").symlink_to(target)
    manifest = read_manifest(folder)
    manifest["files"]["figures/profiles.png"] = sha(target.read_bytes())
    write_manifest(folder, manifest)


def _manifest_lists(path: str, target: Path | None = None):
    def mutate(folder, tmp_path):
        manifest = read_manifest(folder)
        data = target.read_bytes() if target is not None and target.is_file() else b"x"
        manifest["files"][path] = sha(data)
        write_manifest(folder, manifest)

    return mutate


def _outside_file(folder, tmp_path):
    (tmp_path / "x").write_bytes(b"outside")
    manifest = read_manifest(folder)
    manifest["files"]["../x"] = sha(b"outside")
    write_manifest(folder, manifest)


def _second_manifest(listed: bool):
    def mutate(folder, tmp_path):
        shutil.copyfile(folder / "manifest.json", folder / "tables" / "manifest.json")
        if listed:
            data = (folder / "tables" / "manifest.json").read_bytes()
            forge(folder, {"tables/manifest.json": data})

    return mutate


def _fifo(relative: str):
    def mutate(folder, tmp_path):
        (folder / relative).unlink(missing_ok=True)
        os.mkfifo(folder / relative)

    return mutate


def _manifest_bytes(data: bytes):
    def mutate(folder, tmp_path):
        (folder / "manifest.json").write_bytes(data)

    return mutate


def _manifest_entry(key: str, value: object):
    def mutate(folder, tmp_path):
        manifest = read_manifest(folder)
        manifest[key] = value
        write_manifest(folder, manifest)

    return mutate


def _huge_manifest(folder, tmp_path):
    manifest = read_manifest(folder)
    manifest["padding"] = "x" * (1 << 20)
    write_manifest(folder, manifest)


def _manifest_link(target: str | None):
    def mutate(folder, tmp_path):
        (folder / "manifest.json").unlink()
        (folder / "manifest.json").symlink_to(target or folder / "manifest.json")

    return mutate


def _link_loop(folder, tmp_path):
    (folder / "figures" / "a").symlink_to("b")
    (folder / "figures" / "b").symlink_to("a")


def _extends(consistent: bool):
    def mutate(folder, tmp_path):
        (tmp_path / "parent.yaml").write_text("population: {secret: TOPSECRET}\n")
        text = (folder / "config.resolved.yaml").read_text(encoding="utf-8")
        data = f"extends: {tmp_path / 'parent.yaml'}\n{text}".encode()
        if consistent:
            forge(folder, {"config.resolved.yaml": data}, config_sha256=sha(data))
        else:
            (folder / "config.resolved.yaml").write_bytes(data)

    return mutate


def _damaged_table(consistent: bool):
    def mutate(folder, tmp_path):
        table = folder / "tables" / "districts.parquet"
        data = table.read_bytes()
        data = data[: len(data) // 2]  # cut: no Parquet footer
        if consistent:
            forge(folder, {"tables/districts.parquet": data})
        else:
            table.write_bytes(data)

    return mutate


def _wrong_table(folder, tmp_path):
    other = (folder / "tables" / "variance_shares.parquet").read_bytes()
    forge(folder, {"tables/districts.parquet": other})


def _folder_for_report(folder, tmp_path):
    (folder / "report.md").unlink()
    (folder / "report.md").mkdir()


def _unlisted(folder, tmp_path):
    (folder / "tables" / "extra.parquet").write_bytes(b"unlisted")


def _inconsistent_seed(folder, tmp_path):
    manifest = read_manifest(folder)
    manifest["seed"] += 1
    write_manifest(folder, manifest)


def _escape_in_name(folder, tmp_path):
    (folder / "evil\x1b[2Jname").write_bytes(b"x")


def _hostile_manifest_path(folder, tmp_path):
    manifest = read_manifest(folder)
    manifest["files"]["x\x1b]0;pwned\x07"] = sha(b"x")
    write_manifest(folder, manifest)


UNSAFE_PATHS = ["/etc/hostname", "../x", "tables/../summary.json", "tables\\x", "tables//x"]


def _unsafe_paths(folder, tmp_path):
    manifest = read_manifest(folder)
    for path in [*UNSAFE_PATHS, "a\x00b", "./summary.json", "manifest.json", ""]:
        manifest["files"][path] = sha(b"x")
    write_manifest(folder, manifest)


CORPUS = [
    # links, anywhere
    ("link to an identical copy", _symlinked_summary_to_identical_copy, "verify", 1,
     "a symbolic link: summary.json"),
    ("figure linked to a secret", _symlinked_figure_to_secret, "verify", 1,
     "a symbolic link: figures/profiles.png"),
    ("figure linked to a secret", _symlinked_figure_to_secret, "report", 2,
     "a symbolic link: figures/profiles.png"),
    ("link loop", _link_loop, "verify", 1, "a symbolic link: figures/a"),
    ("manifest a link to /dev/zero", _manifest_link("/dev/zero"), "verify", 2,
     "manifest.json: refused: a symbolic link"),
    ("manifest a link loop", _manifest_link(None), "verify", 2,
     "manifest.json: refused: a symbolic link"),
    # manifest paths outside the archive
    ("manifest lists /etc/hostname", _manifest_lists("/etc/hostname", Path("/etc/hostname")),
     "verify", 1, "unsafe path in the manifest: /etc/hostname (an absolute path"),
    ("manifest lists ../x", _outside_file, "verify", 1,
     "unsafe path in the manifest: ../x (a '.' or '..' component"),
    ("manifest lists ../x", _outside_file, "reproduce", 2, "unsafe path in the manifest: ../x"),
    ("manifest lists ../x", _outside_file, "report", 2, "unsafe path in the manifest: ../x"),
    ("unsafe manifest paths", _unsafe_paths, "verify", 1, "(a NUL character)"),
    ("manifest path with ESC", _hostile_manifest_path, "verify", 1,
     "unsafe path in the manifest: x\\x1b]0;pwned\\x07 (a control character)"),
    # closed world
    ("second manifest", _second_manifest(listed=False), "verify", 1,
     "a second manifest: tables/manifest.json"),
    ("second manifest, listed", _second_manifest(listed=True), "verify", 1,
     "a second manifest: tables/manifest.json"),
    ("unlisted file", _unlisted, "verify", 1, "not in the manifest: tables/extra.parquet"),
    ("unlisted file", _unlisted, "reproduce", 2, "not in the manifest: tables/extra.parquet"),
    ("file name with ESC", _escape_in_name, "verify", 1, "not in the manifest: evil\\x1b[2Jname"),
    ("FIFO in the archive", _fifo("tables/pipe"), "verify", 1,
     "not a regular file: tables/pipe (a FIFO)"),
    ("FIFO as a listed figure", _fifo("figures/profiles.png"), "report", 2,
     "not a regular file: figures/profiles.png (a FIFO)"),
    ("FIFO as the manifest", _fifo("manifest.json"), "verify", 2,
     "manifest.json: refused: a FIFO, not a regular file"),
    ("folder where report.md was", _folder_for_report, "report", 2,
     "not a regular file: report.md (a folder)"),
    # malformed manifests
    ("manifest over 1 MiB", _huge_manifest, "verify", 2, "allowed: at most 1,048,576"),
    ("manifest a JSON list", _manifest_bytes(b"[]"), "verify", 2, "the top level is an array"),
    ("manifest a JSON number", _manifest_bytes(b"42"), "report", 2, "the top level is a number"),
    ("manifest null", _manifest_bytes(b"null"), "reproduce", 2, "the top level is null"),
    ("manifest not UTF-8", _manifest_bytes(b'{"files": "\xff\xfe"}'), "verify", 2,
     "not UTF-8 text (byte 11)"),
    ("manifest with a duplicate key", _manifest_bytes(b'{"files": {}, "files": {}}'), "verify",
     2, "duplicate key 'files'"),
    ("manifest not JSON", _manifest_bytes(b"{files"), "verify", 2, "malformed JSON"),
    ("manifest with NaN", _manifest_entry("wall_seconds", float("nan")), "verify", 2,
     "NaN is not a number JSON allows"),
    ("files not a mapping", _manifest_entry("files", ["summary.json"]), "verify", 2,
     "files: allowed: a mapping of paths to SHA-256 digests"),
    ("a hash not hex", _manifest_entry("files", {"summary.json": "XYZ"}), "verify", 2,
     "files['summary.json']: 'XYZ': allowed: 64 lowercase hex digits"),
    ("seed as text", _manifest_entry("seed", "7"), "reproduce", 2,
     "seed: '7': allowed: a whole number"),
    ("manifest and config disagree", _inconsistent_seed, "verify", 1,
     "inconsistent: manifest.json (seed is"),
    # the resolved config
    ("extends: in the config", _extends(consistent=False), "verify", 1,
     "altered: config.resolved.yaml"),
    ("extends: in the config", _extends(consistent=False), "reproduce", 2,
     "altered: config.resolved.yaml"),
    ("extends: with a matching config_sha256", _extends(consistent=True), "verify", 1,
     "refused: config.resolved.yaml (extends: is never allowed in an archive"),
    ("extends: with a matching config_sha256", _extends(consistent=True), "reproduce", 2,
     "extends: is never allowed in an archive"),
    ("extends: with a matching config_sha256", _extends(consistent=True), "report", 2,
     "extends: is never allowed in an archive"),
    # damaged tables
    ("damaged table", _damaged_table(consistent=False), "report", 2,
     "altered: tables/districts.parquet"),
    ("damaged table, hash forged", _damaged_table(consistent=True), "report", 2,
     "tables/districts.parquet: not a readable Parquet table"),
    ("another table in its place, hash forged", _wrong_table, "report", 2,
     "the report cannot be built from the archive's tables (KeyError"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("mutate", "command", "code", "fragment"),
    [pytest.param(*case[1:], id=f"{case[0]} ({case[2]})") for case in CORPUS],
)
def test_hostile_archive(folder, tmp_path, mutate, command, code, fragment):
    mutate(folder, tmp_path)
    result = sim(command, folder)
    assert result.exit_code == code, result.output
    assert fragment in result.output
    assert "\x1b" not in result.output
    assert "TOPSECRET" not in result.output


# --- What the attacks must not achieve ------------------------------------------------------


def test_report_never_writes_through_a_linked_report(folder, tmp_path):
    victim = secret(tmp_path, "the user's own file")
    (folder / "report.md").unlink()
    (folder / "report.md").symlink_to(victim)
    result = sim("report", folder)
    assert result.exit_code == 2
    assert "refused to rebuild its report" in result.output
    assert "a symbolic link: report.md" in result.output
    assert victim.read_text(encoding="utf-8") == "the user's own file"
    assert (folder / "report.md").is_symlink()


def test_report_never_writes_through_a_linked_staging_manifest(folder, tmp_path):
    victim = secret(tmp_path, "the user's own file")
    (folder / ".manifest.json.partial").symlink_to(victim)
    before = (folder / "manifest.json").read_bytes()
    result = sim("report", folder)
    assert result.exit_code == 2
    assert "a symbolic link: .manifest.json.partial" in result.output
    assert victim.read_text(encoding="utf-8") == "the user's own file"
    assert (folder / "manifest.json").read_bytes() == before


def test_a_linked_figure_never_reaches_the_report(folder, tmp_path):
    _symlinked_figure_to_secret(folder, tmp_path)
    before = (folder / "report.html").read_bytes()
    assert sim("report", folder).exit_code == 2
    assert (folder / "report.html").read_bytes() == before
    assert b"TOPSECRET" not in before


def test_a_refused_archive_is_never_written(folder, tmp_path):
    _unlisted(folder, tmp_path)
    (folder / "report.md").write_text("edited", encoding="utf-8")
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert sim("report", folder).exit_code == 2
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before


def test_every_unsafe_manifest_path_is_named(folder, tmp_path):
    _unsafe_paths(folder, tmp_path)
    result = sim("verify", folder)
    assert result.exit_code == 1
    for path in UNSAFE_PATHS:
        assert f"unsafe path in the manifest: {path} (" in result.output
    for why in (
        "a NUL character",
        "an empty component",
        "a backslash",
        "the manifest cannot list itself",
        "unsafe path in the manifest: ./summary.json",
        "unsafe path in the manifest:  (empty)",
    ):
        assert why in result.output


def test_a_fifo_manifest_does_not_hang(folder):
    (folder / "manifest.json").unlink()
    os.mkfifo(folder / "manifest.json")
    signal.alarm(10)
    for command in ("verify", "reproduce", "report"):
        result = sim(command, folder)
        assert result.exit_code == 2
        assert "a FIFO" in result.output


# --- Consistent forgeries: what verify cannot see, and what catches them ------------------


def test_a_consistent_forgery_passes_verify_but_changes_the_manifest_sha(folder):
    original = sha((folder / "manifest.json").read_bytes())
    assert f"manifest sha256 {original}" in sim("verify", folder).output
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    summary["forged"] = True
    forged = forge(folder, {"summary.json": json.dumps(summary).encode()})
    result = sim("verify", folder)
    assert result.exit_code == 0
    assert "intact" in result.output
    assert f"manifest sha256 {forged}" in result.output
    assert forged != original


def test_verify_prints_the_manifest_sha_when_it_fails(folder, tmp_path):
    _unlisted(folder, tmp_path)
    result = sim("verify", folder)
    assert result.exit_code == 1
    assert f"manifest sha256 {sha((folder / 'manifest.json').read_bytes())}" in result.output
    assert "not intact: 1 problem(s)" in result.output


def test_reproduce_catches_a_forged_table_and_writes_nothing(folder, monkeypatch):
    import tempfile

    def no_temporary_folder(*args, **kwargs):
        raise AssertionError("reproduce must not create a temporary folder")

    monkeypatch.setattr(tempfile, "mkdtemp", no_temporary_folder)
    table = pd.read_parquet(folder / "tables" / "districts.parquet")
    table.loc[table["metric"] == "mean_months", "estimate"] -= 1.0
    forge(folder, {"tables/districts.parquet": parquet(table)})
    assert sim("verify", folder).exit_code == 0
    result = sim("reproduce", folder)
    assert result.exit_code == 1
    assert "differs: tables/districts.parquet" in result.output
    assert "manifest sha256" in result.output


def test_reproduce_catches_a_table_deleted_with_its_entry(folder):
    forge(folder, {"tables/pairwise.parquet": None})
    assert sim("verify", folder).exit_code == 0
    result = sim("reproduce", folder)
    assert result.exit_code == 1
    assert "missing from the archive: tables/pairwise.parquet" in result.output


def test_tables_written_to_memory_are_the_bytes_written_to_a_file(folder, tmp_path):
    for path in sorted((folder / "tables").glob("*.parquet")):
        frame = pd.read_parquet(path)
        frame.to_parquet(tmp_path / "file.parquet", index=False, engine="pyarrow")
        assert parquet(frame) == (tmp_path / "file.parquet").read_bytes() == path.read_bytes()


# --- Escaping user text in the report ------------------------------------------------------

HOSTILE = "<script>alert(1)</script> & `tick` | pipe [link](javascript:x) \x1b[31mred\x9b\u202e"


def test_report_escapes_user_text(folder):
    def hostile(config):
        config["title"] = f"Title {HOSTILE}"
        config["judge"]["range_position"]["source"] = f"Source {HOSTILE}"

    forge_config(folder, hostile)
    table = pd.read_parquet(folder / "tables" / "districts.parquet")
    table["name"] = f"District {HOSTILE}"
    forge(folder, {"tables/districts.parquet": parquet(table)})
    result = sim("report", folder)
    assert result.exit_code == 0, result.output
    assert "new manifest sha256" in result.output
    markdown = (folder / "report.md").read_text(encoding="utf-8")
    page = (folder / "report.html").read_text(encoding="utf-8")
    for text in (markdown, page):
        assert "<script>" not in text
        assert "\x1b" not in text
        assert "\x9b" not in text
        assert "\u202e" not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in text
    assert r"\\x1b\[31mred\\x9b\\u202e" in markdown
    assert r"\x1b[31mred\x9b\u202e" in page
    for field in ("# Title &lt;script&gt;", "\\`tick\\` \\| pipe \\[link\\](javascript:x)"):
        assert field in markdown
    # Every table row naming the district has as many cells as its table's header: the pipe
    # did not add a cell (district names now appear in several tables).
    cells, rows = 0, 0
    for line in markdown.splitlines():
        if line.startswith("|---"):
            continue
        if line.startswith("| ") and cells == 0:
            cells = line.count(" | ")  # a header
        elif line.startswith("| ") and "District &lt;script" in line:
            assert line.count(" | ") == cells, line
            rows += 1
        elif not line.startswith("|"):
            cells = 0
    assert rows
    assert "<title>Title &lt;script&gt;" in page
    assert sim("verify", folder).exit_code == 0


def test_report_replaces_a_missing_or_altered_report(folder, archived_run):
    (folder / "report.md").write_text("edited", encoding="utf-8")
    (folder / "report.html").unlink()
    result = sim("report", folder)
    assert result.exit_code == 0, result.output
    assert (folder / "report.md").read_bytes() == (archived_run.folder / "report.md").read_bytes()
    assert (folder / "manifest.json").read_bytes() == (
        archived_run.folder / "manifest.json"
    ).read_bytes()
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".partial")]
