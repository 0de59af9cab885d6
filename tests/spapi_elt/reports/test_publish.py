"""Atomic publication: a second publish replaces the file; a failure mid-write keeps the previous one and
leaves no temporary file behind."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import pytest

from spapi_elt.reports import generate, publish_reports
from spapi_elt.reports.publish import publish
from tests.published_reports import Published, account_names


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith(".tmp"))


def test_a_second_publish_replaces_the_file(tmp_path: Path) -> None:
    target = tmp_path / "reports" / "a" / "report.html"
    publish(target, lambda f: f.write(b"first"))
    publish(target, lambda f: f.write(b"second"))
    assert target.read_bytes() == b"second"
    assert target.stat().st_mode & 0o777 == 0o644
    assert leftovers(tmp_path) == []


def test_a_failure_mid_write_keeps_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "report.xlsx"
    publish(target, lambda f: f.write(b"complete report"))

    def half_then_fail(file: BinaryIO) -> None:
        file.write(b"half a rep")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        publish(target, half_then_fail)
    assert target.read_bytes() == b"complete report"
    assert leftovers(tmp_path) == []
    assert [p.name for p in tmp_path.iterdir()] == ["report.xlsx"]


def test_rerunning_replaces_each_report_and_a_failing_writer_keeps_them(
        published: Published, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole generation: a re-run over the same marts replaces the pair in place (same names, so the
    folder holds one pair per account); a workbook writer that dies mid-file changes nothing."""
    lakehouse = published.lakehouse
    first = publish_reports(lakehouse.path, tmp_path, account_names(lakehouse))
    before = {r.workbook: r.workbook.read_bytes() for r in first}
    inodes = {r.page: r.page.stat().st_ino for r in first}
    again = publish_reports(lakehouse.path, tmp_path, account_names(lakehouse))
    assert [(r.workbook, r.page) for r in again] == [(r.workbook, r.page) for r in first]
    assert all(r.page.stat().st_ino != inodes[r.page] for r in again), "re-run must write new files, renamed over"
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(
        [r.workbook.name for r in first] + [r.page.name for r in first])

    def broken_writer(data, file: BinaryIO) -> None:
        file.write(b"PK\x03\x04 half a zip")
        raise RuntimeError("writer crashed")

    kept = {r.workbook: r.workbook.read_bytes() for r in again}
    monkeypatch.setattr(generate, "write_workbook", broken_writer)
    with pytest.raises(RuntimeError, match="writer crashed"):
        publish_reports(lakehouse.path, tmp_path, account_names(lakehouse))
    assert {path: path.read_bytes() for path in kept} == kept
    assert set(before) == set(kept)
    assert leftovers(tmp_path) == []
