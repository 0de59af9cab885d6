"""The purge on a lake reaches every copy, and the lake's marts, reports and journal exports after it equal the DuckDB
file's: one small sandbox world ingested into a file and into a lake (an ingest ends with the purge on both), the
lake scanned before and after (every Parquet file, `.dlt`, the warehouse), both built with dbt and compared."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from dlt_sources.spapi.tables import PRIMARY_KEYS
from spapi_elt import cli
from spapi_elt.dbt_runner import build
from spapi_elt.lake import as_lake
from spapi_elt.purge import PII_TABLES, RETENTION_DAYS, purge_pii
from spapi_sandbox.truth import truth
from tests.built_lakehouse import TIME_SCALE
from tests.conftest import launch_sandbox
from tests.dbt_project.test_lake_marts import LAKE_ARGUMENTS, marts
from tests.spapi_elt.ingest_helpers import protector_for, query, run_ingest
from tests.spapi_elt.pii_scan import scan


@pytest.fixture(scope="module")
def purged(tmp_path_factory: pytest.TempPathFactory) -> dict:
    workdir = tmp_path_factory.mktemp("lake-purge")
    lakehouse, lake = workdir / "file" / "lakehouse.duckdb", f"file://{workdir}/lake"
    sandbox = launch_sandbox(LAKE_ARGUMENTS, time_scale=TIME_SCALE)
    try:
        facts = truth(sandbox.world)
        sellers = [a["seller_id"] for a in facts["accounts"]]
        run_ingest(sandbox, lakehouse, purge=True)
        run_ingest(sandbox, lake, accounts=sellers[:1])  # no purge yet: the scan must find this account's PII
        protector, canaries = protector_for(sandbox), facts["pii_canaries"]
        before = scan(workdir / "lake", protector, [*sellers, None], canaries)
        second = run_ingest(sandbox, lake, accounts=sellers[1:], purge=True)  # its purge covers the whole lake
    finally:
        sandbox.close()
    # The world's orders are months old: today's purge shreds them; one past every retention shreds the quarantine.
    later = datetime.now(UTC).date() + timedelta(days=RETENTION_DAYS + 1)
    extra = {"file": purge_pii(lakehouse, today=later), "lake": purge_pii(lake, today=later)}
    after_purge = scan(workdir / "lake", protector, [*sellers, None], canaries)
    as_of = datetime.fromtimestamp(facts["now"], UTC).date()
    built = {"file": build(lakehouse, as_of), "lake": build(lake, as_of)}
    after_build = scan(workdir / "lake", protector, [*sellers, None], canaries)
    return {"workdir": workdir, "lakehouse": lakehouse, "lake": lake, "before": before, "second": second,
            "extra": extra, "after_purge": after_purge, "built": built, "after_build": after_build,
            "canaries": canaries}


def test_the_scan_finds_the_unpurged_accounts_pii_in_the_lake(purged):
    places = purged["before"].decryptable_by_place(purged["workdir"] / "lake")
    assert sum(n for place, n in places.items() if place.startswith("raw_spapi/order") and "[parquet]" in place) > 10
    assert purged["before"].canary_hits == []  # protected before it touches disk: never plaintext
    assert purged["canaries"]


def test_after_the_purge_no_parquet_file_and_nothing_in_dlt_decrypts(purged):
    assert purged["second"].purged > 0  # the second account's ingest purged both accounts' files
    for result in (purged["after_purge"], purged["after_build"]):
        assert result.decryptable_by_place(purged["workdir"] / "lake") == {}
        assert result.canary_hits == []
    lake = purged["workdir"] / "lake"
    assert list(lake.rglob("*.parquet")) and (lake / ".dlt").is_dir()  # what was scanned
    assert not list(lake.rglob("*.purging"))


def test_marts_after_the_purge_equal_the_files(purged):
    assert purged["built"]["file"].ok, purged["built"]["file"].failures()
    assert purged["built"]["lake"].ok, purged["built"]["lake"].failures()
    file_marts, lake_marts = marts(purged["lakehouse"]), marts(as_lake(purged["lake"]).warehouse)
    assert file_marts["finance.settlement_lines"] and sorted(lake_marts) == sorted(file_marts)
    assert [t for t in file_marts if lake_marts[t] != file_marts[t]] == []
    # The tombstones themselves: each PII table's latest row per key in the lake equals the file's, value for value.
    for pii in PII_TABLES[:2]:
        key = ", ".join(PRIMARY_KEYS[pii.table])
        columns = ", ".join(f'"{c}"' for c in pii.columns if c in lake_columns(purged["lake"], pii.table))
        file_rows = query(purged["lakehouse"], f"select {key}, {columns} from raw_spapi.{pii.table} order by {key}")
        with duckdb.connect() as con:
            lake_rows = con.execute(f"select {key}, {columns} from read_parquet(?, union_by_name = true) qualify "
                                    f"row_number() over (partition by {key} order by _dlt_load_id desc) = 1 "
                                    f"order by {key}", [as_lake(purged["lake"]).table_files(pii.table)]).fetchall()
        assert file_rows and lake_rows == file_rows, pii.table
        assert any(str(v).startswith("purged:") for row in lake_rows for v in row), pii.table


def lake_columns(lake: str, table: str) -> set[str]:
    with duckdb.connect() as con:
        return {r[0] for r in con.execute("describe select * from read_parquet(?, union_by_name = true)",
                                          [as_lake(lake).table_files(table)]).fetchall()}


def test_report_and_journal_exports_on_the_lake_equal_the_files(purged, tmp_path):
    outputs = {}
    for name, target in (("file", str(purged["lakehouse"])), ("lake", purged["lake"])):
        out = tmp_path / name
        assert cli.main(["export-journals", "--lakehouse", target, "--out", str(out), "--format", "csv"]) == 0
        assert cli.main(["report", "--lakehouse", target, "--out", str(out)]) == 0
        outputs[name] = {p.relative_to(out): p for p in out.rglob("*") if p.is_file()}
    assert sorted(outputs["lake"]) == sorted(outputs["file"])
    journals = [p for p in outputs["file"] if p.suffix == ".csv"]
    assert journals and any(p.suffix == ".xlsx" for p in outputs["file"])
    assert [p for p in journals if Path(outputs["lake"][p]).read_bytes() != Path(outputs["file"][p]).read_bytes()] == []
