"""`spapi-elt import-settlements` into a Parquet lake (spapi_elt/lake_settlements.py): files load through the pipeline
whose state knows the seller's settlements, so the lake's marts equal a DuckDB file's, a file imported twice loads
once, and a file identical to an API document the lake holds loads no line, in either order."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import dlt
import duckdb
import pytest

from spapi_elt.dbt_runner import build
from spapi_elt.lake import LakeNotSupported, as_lake, lake_pipeline_names, lake_table_counts, pipeline_name
from spapi_elt.lake_settlements import settlements_pipeline
from spapi_elt.lakehouse import pipeline
from spapi_elt.settlement_import import import_settlements
from spapi_sandbox.world import DataArguments
from tests.conftest import running_sandbox
from tests.spapi_elt.ingest_helpers import run_ingest
from tests.spapi_elt.test_import_settlements import import_cli, write_files

# Two sellers ingested as one account set: its pipeline, not the seller's own, must take the seller's files.
ARGUMENTS = DataArguments(seed=23, sellers=2, start="2026-01-01", days=45, orders_per_day=4)
AS_OF = date(2026, 3, 1)


def lake_lines(lake: str, seller_id: str | None = None) -> dict[str, tuple[int, Decimal]]:
    """Settlement id -> (rows, sum of amounts) over every Parquet file of the lake's settlement_lines (of a seller)."""
    with duckdb.connect() as con:
        rows = con.execute("select settlement_id, count(*), sum(amount) from read_parquet(?, union_by_name = true) "
                           "where seller_id = coalesce(?, seller_id) group by 1",
                           [as_lake(lake).table_files("settlement_lines"), seller_id]).fetchall()
    return {sid: (count, total) for sid, count, total in rows}


def audit_outcomes(lake: str) -> dict[str, int]:
    with duckdb.connect() as con:
        return dict(con.execute("select outcome, count(*) from read_parquet(?, union_by_name = true) "
                                "where kind = 'settlement_import' group by 1",
                                [as_lake(lake).table_files("api_audit_log")]).fetchall())


def mart_lines(warehouse: Path) -> list[tuple]:
    """Per settlement: its reported total, lines amount and status, and its lines' count and sum in the marts."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "select s.settlement_id, s.reported_total_amount, s.lines_amount, s.reconciliation_status, "
            "count(l.settlement_id), sum(l.amount) from finance.settlements s "
            "left join finance.settlement_lines l using (settlement_id) group by all order by 1").fetchall()


@pytest.fixture(scope="module")
def sandbox():
    with running_sandbox(ARGUMENTS, time_scale=300.0) as running:
        yield running


def test_files_on_a_lake_build_the_marts_of_a_file_and_load_once(sandbox, tmp_path, capsys) -> None:
    seller = sandbox.world.sellers[0]
    seller_id = seller.account.seller_id
    expected = write_files(seller, tmp_path / "inbox")
    lake, lakehouse = f"file://{tmp_path}/lake", tmp_path / "file" / "lakehouse.duckdb"

    assert import_cli(tmp_path / "inbox", "--seller-id", seller_id, "--lakehouse", lake) == 0
    out = capsys.readouterr().out
    assert out.count(": settlement ") == len(expected) and out.count(", loaded\n") == len(expected)
    assert f"{len(expected)} of {len(expected)} files imported into {lake}" in out
    assert lake_pipeline_names(as_lake(lake)) == [pipeline_name([seller_id])]  # nobody knew the seller: its own
    loaded = lake_lines(lake)
    assert {sid: total for sid, (_, total) in loaded.items()} == expected
    assert audit_outcomes(lake) == {"loaded": len(expected)}

    # Again: every file is already imported, and the lake gains no line and no document.
    counts = lake_table_counts(as_lake(lake))
    assert import_cli(tmp_path / "inbox", "--seller-id", seller_id, "--lakehouse", lake) == 0
    assert capsys.readouterr().out.count("already imported, nothing new") == len(expected)
    again = lake_table_counts(as_lake(lake))
    assert lake_lines(lake) == loaded
    assert again["settlement_report_documents"] == counts["settlement_report_documents"]
    assert audit_outcomes(lake) == {"loaded": len(expected), "already imported": len(expected)}

    # The same files into a DuckDB file: both builds' settlements and lines agree, decimal for decimal.
    assert import_cli(tmp_path / "inbox", "--seller-id", seller_id, "--lakehouse", lakehouse) == 0
    for target in (lake, lakehouse):
        done = build(target, AS_OF)
        assert done.returncode == 0, done.output[-3000:]
    lake_marts, file_marts = mart_lines(as_lake(lake).warehouse), mart_lines(lakehouse)
    assert lake_marts == file_marts
    assert {row[0]: (row[4], row[5]) for row in lake_marts} == {
        sid: (count, total) for sid, (count, total) in loaded.items()}


def test_a_file_and_the_api_on_a_lake_are_one_settlement_in_either_order(sandbox, tmp_path, capsys) -> None:
    seller, other = sandbox.world.sellers
    seller_id = seller.account.seller_id
    expected = write_files(seller, tmp_path / "inbox")
    set_pipeline = pipeline_name([seller_id, other.account.seller_id])

    api_first = f"file://{tmp_path}/api-first"
    run_ingest(sandbox, api_first, resources=["settlements"])  # both accounts, one account set
    before = lake_lines(api_first)
    assert settlements_pipeline(as_lake(api_first), seller_id) == set_pipeline
    assert import_cli(tmp_path / "inbox", "--seller-id", seller_id, "--lakehouse", api_first) == 0
    assert capsys.readouterr().out.count("identical to the loaded settlement") == len(expected)
    assert lake_lines(api_first) == before  # not a row more
    assert lake_pipeline_names(as_lake(api_first)) == [set_pipeline]  # no pipeline of its own

    # The other order: the files first (into the seller's own pipeline), then the API ingest of that account set.
    file_first = f"file://{tmp_path}/file-first"
    assert import_cli(tmp_path / "inbox", "--seller-id", seller_id, "--lakehouse", file_first) == 0
    capsys.readouterr()
    run_ingest(sandbox, file_first, resources=["settlements"], accounts=[seller_id])
    assert lake_lines(file_first) == lake_lines(api_first, seller_id)  # the API's copies added no line
    with duckdb.connect() as con:
        identical = con.execute(
            "select count(*) from read_parquet(?, union_by_name = true) where content = 'identical' "
            "and report_id not like 'file-%'", [as_lake(file_first).table_files("settlement_report_documents")]
        ).fetchone()[0]
    assert identical == len(expected)


def test_a_seller_known_to_two_account_sets_is_refused_naming_them(sandbox, tmp_path) -> None:
    """The seller's settlements in the state of two account sets' pipelines: no import could keep both right."""
    seller, other = sandbox.world.sellers
    seller_id = seller.account.seller_id
    lake = f"file://{tmp_path}/lake"
    write_files(seller, tmp_path / "inbox")
    first = sorted((tmp_path / "inbox").glob("*.txt"))[:1]
    assert import_settlements(first, seller_id=seller_id, lakehouse=lake).files[0].outcome == "loaded"
    pair = pipeline_name([seller_id, other.account.seller_id])
    _run_settlements_state(pipeline(lake, name=pair), seller_id)  # another account set ran settlements for it
    named = re.escape(", ".join(sorted([pair, pipeline_name([seller_id])])))
    with pytest.raises(LakeNotSupported, match=f"seller {seller_id}: .* several account sets .*\\({named}\\)"):
        import_settlements(first, seller_id=seller_id, lakehouse=lake)


def _run_settlements_state(pipe: dlt.Pipeline, seller_id: str) -> None:
    """What the API's settlements resource leaves in a pipeline's state for an account with nothing new."""

    @dlt.source(name="spapi")
    def source():
        @dlt.resource(name="settlements")
        def settlements():
            dlt.current.resource_state().setdefault("loaded_settlements", {}).setdefault(seller_id, {})
            yield from ()

        return settlements

    pipe.run(source())


def test_an_import_on_a_lake_first_finishes_what_a_killed_run_left(sandbox, tmp_path) -> None:
    """A package extracted but never loaded into the seller's pipeline (a run killed after extraction) is loaded
    before the files, and audited as a recovery; the files load as well."""
    seller = sandbox.world.sellers[0]
    seller_id = seller.account.seller_id
    lake = f"file://{tmp_path}/lake"
    write_files(seller, tmp_path / "inbox")
    left = pipeline(lake, [seller_id])
    left.extract(dlt.resource([{"seller_id": seller_id, "note": "left behind"}], name="left_behind"),
                 loader_file_format="parquet")
    assert left.list_extracted_load_packages()

    result = import_settlements(sorted((tmp_path / "inbox").glob("*.txt"))[:1], seller_id=seller_id, lakehouse=lake)
    assert [f.outcome for f in result.files] == ["loaded"]
    counts = lake_table_counts(as_lake(lake))
    assert counts["left_behind"] == 1 and counts["settlement_lines"] == result.files[0].lines > 0
    with duckdb.connect() as con:
        recoveries = con.execute("select outcome from read_parquet(?, union_by_name = true) where kind = 'recovery'",
                                 [as_lake(lake).table_files("api_audit_log")]).fetchall()
    assert recoveries == [("finished",)]
    assert not left.list_extracted_load_packages() and not left.list_normalized_load_packages()


def test_a_bad_file_and_a_bad_line_on_a_lake_are_named_and_kept_in_the_lake(sandbox, tmp_path, capsys) -> None:
    """As on a file: an unreadable file is named on stderr (exit 1) and audited, a line that does not parse goes to
    the lake's quarantine, and the rest loads."""
    seller = sandbox.world.sellers[0]
    lake = f"file://{tmp_path}/lake"
    expected = write_files(seller, tmp_path / "inbox")
    (tmp_path / "inbox" / "notes.txt").write_text("these are not settlements\n")
    first = sorted((tmp_path / "inbox").glob("*.txt"))[0]
    lines = first.read_text().splitlines()
    fields = lines[5].split("\t")
    fields[14] = "12,34,56"  # an amount that does not parse
    lines[5] = "\t".join(fields)
    first.write_text("\n".join(lines) + "\n")

    assert import_cli(tmp_path / "inbox", "--seller-id", seller.account.seller_id, "--lakehouse", lake) == 1
    captured = capsys.readouterr()
    assert "ERROR " + str(tmp_path / "inbox" / "notes.txt") in captured.err
    assert "1 lines quarantined (first quarantined: line 6: amount: not a valid decimal" in captured.out
    assert set(lake_lines(lake)) == set(expected)
    with duckdb.connect() as con:
        quarantined = con.execute("select line_number, raw_line from read_parquet(?, union_by_name = true)",
                                  [as_lake(lake).table_files("flat_file_quarantine")]).fetchall()
    assert [(line, "12,34,56" in raw) for line, raw in quarantined] == [(6, True)]
    assert audit_outcomes(lake) == {"loaded": len(expected), "unreadable": 1}
