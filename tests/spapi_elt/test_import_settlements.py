"""`spapi-elt import-settlements`: settlement files downloaded from Seller Central load into the same raw
tables as the API's documents, once however often (and however) they arrive; a bad file is named and the
others load; the marts build over a lakehouse that holds nothing else."""

from __future__ import annotations

import gzip
import zipfile
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from spapi_elt.cli import main
from spapi_elt.lakehouse import DATASET
from spapi_sandbox.generate import build_world
from spapi_sandbox.settlement_file import render_settlement
from spapi_sandbox.world import DataArguments
from tests.conftest import running_sandbox
from tests.spapi_elt.ingest_helpers import query, run_ingest

ARGUMENTS = DataArguments(seed=23, sellers=1, start="2026-01-01", days=45, orders_per_day=6)


@pytest.fixture(scope="module")
def seller():
    return build_world(ARGUMENTS).sellers[0]


def closed(seller) -> list:
    return [s for s in seller.settlements if s.closed]


def write_files(seller, folder: Path) -> dict[str, Decimal]:
    """Each closed settlement as a file, the first plain, the second gzipped, the rest in one zip archive;
    returns settlement id -> total."""
    folder.mkdir(parents=True, exist_ok=True)
    settlements = closed(seller)
    assert len(settlements) >= 3
    for index, settlement in enumerate(settlements):
        data = render_settlement(settlement)
        if index == 0:
            (folder / f"{settlement.settlement_id}.txt").write_bytes(data)
        elif index == 1:
            (folder / f"{settlement.settlement_id}.txt.gz").write_bytes(gzip.compress(data))
        else:
            with zipfile.ZipFile(folder / "statements.zip", "a") as archive:
                archive.writestr(f"{settlement.settlement_id}.txt", data)
    return {s.settlement_id: Decimal(s.total) / 100 for s in settlements}


def line_totals(lakehouse: Path) -> dict[str, Decimal]:
    return dict(query(lakehouse, f"select settlement_id, sum(amount) from {DATASET}.settlement_lines group by 1"))


def line_count(lakehouse: Path) -> int:
    return query(lakehouse, f"select count(*) from {DATASET}.settlement_lines")[0][0]


def import_cli(*args: str | Path) -> int:
    return main(["import-settlements", *map(str, args)])


def test_a_folder_of_plain_gz_and_zip_files_loads_whole_and_once(seller, tmp_path, capsys) -> None:
    lakehouse = tmp_path / "lakehouse.duckdb"
    expected = write_files(seller, tmp_path / "inbox")
    seller_id = seller.account.seller_id
    assert import_cli(tmp_path / "inbox", "--seller-id", seller_id, "--lakehouse", lakehouse) == 0
    out = capsys.readouterr().out
    assert out.count(": settlement ") == len(expected)
    assert "statements.zip:" in out and ".txt.gz: settlement" in out
    assert line_totals(lakehouse) == expected
    reports = query(lakehouse, f"select settlement_id, total_amount, marketplace_id, line_count, quarantined_lines "
                               f"from {DATASET}.settlement_reports")
    assert {r[0]: r[1] for r in reports} == expected
    assert {r[2] for r in reports} <= {"ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"} and all(r[4] == 0 for r in reports)
    audit = query(lakehouse, f"select outcome, count(*) from {DATASET}.api_audit_log "
                             "where kind = 'settlement_import' group by 1")
    assert audit == [("loaded", len(expected))]

    lines = line_count(lakehouse)
    assert import_cli(tmp_path / "inbox", "--seller-id", seller_id, "--lakehouse", lakehouse) == 0
    assert capsys.readouterr().out.count("already imported") == len(expected)
    plain = next((tmp_path / "inbox").glob("*.txt"))
    copy = tmp_path / "renamed.txt.gz"  # the same content under another name and compression
    copy.write_bytes(gzip.compress(plain.read_bytes()))
    assert import_cli(copy, "--seller-id", seller_id, "--lakehouse", lakehouse) == 0
    assert "already imported" in capsys.readouterr().out
    assert line_count(lakehouse) == lines
    assert line_totals(lakehouse) == expected


def test_a_bad_file_is_named_and_the_others_load(seller, tmp_path, capsys) -> None:
    lakehouse = tmp_path / "lakehouse.duckdb"
    expected = write_files(seller, tmp_path / "inbox")
    (tmp_path / "inbox" / "notes.txt").write_text("these are not settlements\n")
    (tmp_path / "inbox" / "broken.gz").write_bytes(b"\x1f\x8b\x08\x00broken")
    first = sorted((tmp_path / "inbox").glob("*.txt"))[0]
    lines = first.read_text().splitlines()
    fields = lines[5].split("\t")
    fields[14] = "12,34,56"  # an amount that does not parse: its line is quarantined, the rest load
    lines[5] = "\t".join(fields)
    first.write_text("\n".join(lines) + "\n")

    code = import_cli(tmp_path / "inbox", "--seller-id", seller.account.seller_id, "--lakehouse", lakehouse)
    captured = capsys.readouterr()
    assert code == 1
    assert "ERROR " + str(tmp_path / "inbox" / "notes.txt") in captured.err
    assert "ERROR " + str(tmp_path / "inbox" / "broken.gz") in captured.err
    assert "1 lines quarantined (first quarantined: line 6: amount: not a valid decimal" in captured.out
    loaded = line_totals(lakehouse)
    assert set(loaded) == set(expected)
    quarantined = query(lakehouse, f"select line_number, raw_line from {DATASET}.flat_file_quarantine")
    assert [(q[0], "12,34,56" in q[1]) for q in quarantined] == [(6, True)]
    assert query(lakehouse, f"select outcome, count(*) from {DATASET}.api_audit_log where kind = 'settlement_import' "
                            "group by 1 order by 1") == [("loaded", len(expected)), ("unreadable", 2)]


def test_a_path_that_names_nothing_fails_before_anything_loads(tmp_path, capsys) -> None:
    lakehouse = tmp_path / "lakehouse.duckdb"
    (tmp_path / "empty").mkdir()
    assert import_cli(tmp_path / "missing.txt", "--seller-id", "S", "--lakehouse", lakehouse) == 2
    assert "missing.txt: no such file or folder" in capsys.readouterr().err
    assert import_cli(tmp_path / "empty", "--seller-id", "S", "--lakehouse", lakehouse) == 2
    assert "the folder holds no files" in capsys.readouterr().err
    assert not lakehouse.exists()


def test_a_settlement_from_the_api_and_from_a_file_is_one_settlement(tmp_path, capsys) -> None:
    """Either order: the second arrival is recorded as identical and loads no line."""
    with running_sandbox(ARGUMENTS, time_scale=300.0) as sandbox:
        seller = sandbox.world.sellers[0]
        expected = write_files(seller, tmp_path / "inbox")
        # A folder each: dlt's state beside a file is that file's (lakehouse.claim_working_directory).
        api_first, file_first = tmp_path / "api-first" / "l.duckdb", tmp_path / "file-first" / "l.duckdb"
        run_ingest(sandbox, api_first, resources=["settlements"])
        lines = line_count(api_first)
        assert import_cli(tmp_path / "inbox", "--seller-id", seller.account.seller_id, "--lakehouse", api_first) == 0
        assert capsys.readouterr().out.count("identical to the loaded settlement") == len(expected)
        assert line_count(api_first) == lines

        assert import_cli(tmp_path / "inbox", "--seller-id", seller.account.seller_id, "--lakehouse", file_first) == 0
        run_ingest(sandbox, file_first, resources=["settlements"])
    assert line_count(file_first) == lines
    assert line_totals(file_first) == line_totals(api_first) == expected
    contents = query(file_first, f"select content, count(*) from {DATASET}.settlement_report_documents "
                                 "group by 1 order by 1")
    assert contents == [("identical", len(expected)), ("loaded", len(expected))]


def test_imported_files_alone_build_the_marts(seller, tmp_path, capsys) -> None:
    """The acceptance's command lines: import, then transform; every settlement's lines add up to its total,
    and with no Finances API data its deposit is 'no deposit data', not missing."""
    lakehouse = tmp_path / "lakehouse.duckdb"
    expected = write_files(seller, tmp_path / "inbox")
    first = sorted((tmp_path / "inbox").glob("*.txt"))[0]
    assert main(["import-settlements", str(first), "--seller-id", seller.account.seller_id,
                 "--lakehouse", str(lakehouse)]) == 0
    # A column dlt never wrote (its values were all empty so far) is null in staging, as a missing table is empty.
    with duckdb.connect(str(lakehouse)) as con:
        con.execute(f"alter table {DATASET}.settlement_reports drop column deposit_at")
    assert main(["transform", "--lakehouse", str(lakehouse)]) == 0
    rows = query(lakehouse, "select settlement_id, reported_total_amount, lines_amount, reconciliation_status, "
                            "deposit_date from finance.settlements")
    assert rows == [(first.stem, expected[first.stem], expected[first.stem], "no deposit data", None)]
    assert query(lakehouse, "select count(*) from finance.reconciliation_exceptions "
                            "where kind like 'settlement%' or kind like 'deposit%'") == [(0,)]


def test_an_amazon_co_jp_file_in_shift_jis_needs_no_charset_or_marketplace(tmp_path, capsys) -> None:
    """A Seller Central download declares no charset: bytes that are not UTF-8 are read as Shift_JIS for an
    Amazon.co.jp settlement (whose marketplace its lines name), so Japanese SKUs come out right."""
    world = build_world(DataArguments(seed=5, sellers=3, start="2026-01-01", days=30, regions=("NA", "EU", "FE")))
    (seller,) = [s for s in world.sellers if s.account.region == "FE"]
    settlement = closed(seller)[0]
    data = render_settlement(settlement)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    file = tmp_path / "jp.txt"
    file.write_bytes(data)
    lakehouse = tmp_path / "lakehouse.duckdb"
    assert import_cli(file, "--seller-id", seller.account.seller_id, "--lakehouse", lakehouse) == 0
    assert query(lakehouse, f"select marketplace_id, total_amount, lines_amount_sum, quarantined_lines "
                            f"from {DATASET}.settlement_reports") == [
        ("A1VC38T7YXB528", Decimal(settlement.total), Decimal(settlement.total), 0)]
    skus = {r[0] for r in query(lakehouse, f"select distinct sku from {DATASET}.settlement_lines where sku <> ''")}
    assert skus and all(any(ord(ch) > 0x3000 for ch in sku) for sku in skus)


@pytest.mark.parametrize("layout", ["flat36", "flat33"])
def test_a_flat_file_layout_file_and_its_v2_twin_are_one_settlement(seller, tmp_path, capsys, layout) -> None:
    """Seller Central's older layout loads as the V2 lines; its V2 twin, imported after it, is identical."""
    lakehouse = tmp_path / "lakehouse.duckdb"
    settlement = closed(seller)[0]
    flat, v2 = tmp_path / "flat.txt", tmp_path / "v2.txt"
    flat.write_bytes(render_settlement(settlement, layout=layout))
    v2.write_bytes(render_settlement(settlement))
    assert import_cli(flat, "--seller-id", seller.account.seller_id, "--lakehouse", lakehouse) == 0
    total = Decimal(settlement.total) / 100
    assert line_totals(lakehouse) == {settlement.settlement_id: total}
    assert query(lakehouse, f"select quarantined_lines from {DATASET}.settlement_reports") == [(0,)]
    lines = line_count(lakehouse)
    assert import_cli(v2, "--seller-id", seller.account.seller_id, "--lakehouse", lakehouse) == 0
    assert "identical to the loaded settlement" in capsys.readouterr().out
    assert line_count(lakehouse) == lines == sum(len(p.components) for p in settlement.postings)
