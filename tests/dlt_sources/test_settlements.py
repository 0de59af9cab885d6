"""Settlement documents into the lakehouse: lines loaded once, identical re-issues only recorded,
changed re-issues loaded as a new version, whose summary wins."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import dlt
import pytest

from dlt_sources.spapi.settlements import document_items
from spapi_elt.lakehouse import DATASET, pipeline
from spapi_sandbox.generate import build_world
from spapi_sandbox.settlement_file import render_settlement
from spapi_sandbox.world import DataArguments
from tests.spapi_elt.ingest_helpers import query


@pytest.fixture(scope="module")
def settlement():
    world = build_world(DataArguments(seed=5, sellers=2, days=40, orders_per_day=6))
    return next(st for s in world.sellers for st in s.settlements if st.closed and st.marketplace == "DE")


def load(lakehouse, documents: list[tuple[str, bytes]], loaded: dict[str, str]) -> None:
    """Load (report id, document bytes) pairs through the resource's document path, one run; a report
    created later has the higher id, as Amazon's do."""

    def items():
        for report_id, data in documents:
            created_at = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(hours=int(report_id))
            yield from document_items(lambda data=data: io.BytesIO(data), seller_id="A1SELLER",
                                      marketplace_id="A1PA6795UKMFR9", report_id=report_id, document_id=f"d{report_id}",
                                      created_at=created_at, size=len(data), charset="utf-8", loaded=loaded,
                                      quarantine=lambda rows: None)

    pipeline(lakehouse).run(dlt.resource(items(), name="settlements"), loader_file_format="parquet")


def test_identical_reissue_is_recorded_not_loaded_again(tmp_path, settlement):
    lakehouse, loaded = tmp_path / "l.duckdb", {}
    document = render_settlement(settlement)
    load(lakehouse, [("100", document)], loaded)
    load(lakehouse, [("101", document)], loaded)  # the re-issue, in a later run
    assert query(lakehouse, f"select count(*) from {DATASET}.settlement_lines")[0][0] == settlement.line_count
    assert query(lakehouse, f"select report_id, content from {DATASET}.settlement_report_documents order by 1") == [
        ("100", "loaded"), ("101", "identical")]
    assert query(lakehouse, f"select total_amount, report_id from {DATASET}.settlement_reports") == [
        (Decimal(settlement.total) / 100, "100")]


def test_changed_reissue_loads_a_new_version_whose_summary_wins(tmp_path, settlement):
    lakehouse, loaded = tmp_path / "l.duckdb", {}
    original = render_settlement(settlement)
    lines = original.decode().splitlines()
    # Amazon corrects one line by 1.00 and the total with it.
    fields = lines[3].split("\t")
    fields[14] = f"{Decimal(fields[14].replace(',', '.')) + 1:.2f}".replace(".", ",")
    lines[3] = "\t".join(fields)
    summary = lines[1].split("\t")
    summary[4] = f"{Decimal(summary[4].replace(',', '.')) + 1:.2f}".replace(".", ",")
    lines[1] = "\t".join(summary)
    changed = ("\n".join(lines) + "\n").encode()
    load(lakehouse, [("100", original), ("101", changed)], loaded)  # both in one run
    versions = dict(query(lakehouse, f"select report_id, sum(amount) from {DATASET}.settlement_lines group by 1"))
    assert versions == {"100": Decimal(settlement.total) / 100, "101": Decimal(settlement.total) / 100 + 1}
    assert query(lakehouse, f"select total_amount, report_id from {DATASET}.settlement_reports") == [
        (Decimal(settlement.total) / 100 + 1, "101")]
    assert query(lakehouse, f"select content from {DATASET}.settlement_report_documents order by report_id") == [
        ("loaded",), ("changed",)]


def test_sandbox_settlements_with_real_file_quirks_load_every_line(tmp_path):
    """Every closed settlement of a sandbox world (short Liquidations lines, Non-Amazon lines, Amazon.fr lines
    in Amazon.de settlements, UK dot dates, Cp1252 documents) through the resource's document path: nothing is
    quarantined and each settlement's lines sum to its total."""
    from dlt_sources.spapi.reports import charset_of
    from spapi_sandbox.marketplaces import MARKETPLACES
    from spapi_sandbox.settlement_file import content_type

    world = build_world(DataArguments(seed=11, sellers=2, days=75, orders_per_day=10))
    closed = [(s.account.seller_id, st) for s in world.sellers for st in s.settlements if st.closed]
    quarantined, loaded = [], {}

    def items():
        for k, (seller_id, st) in enumerate(closed):
            data = render_settlement(st)
            yield from document_items(lambda data=data: io.BytesIO(data), seller_id=seller_id,
                                      marketplace_id=MARKETPLACES[st.marketplace].marketplace_id,
                                      report_id=str(1000 + k), document_id=f"d{k}", created_at=None,
                                      size=len(data), charset=charset_of(content_type(st)),
                                      loaded=loaded.setdefault(seller_id, {}), quarantine=quarantined.extend)

    lakehouse = tmp_path / "l.duckdb"
    pipeline(lakehouse).run(dlt.resource(items(), name="settlements"), loader_file_format="parquet")
    assert quarantined == []
    sums = dict(query(lakehouse, f"select settlement_id, sum(amount) from {DATASET}.settlement_lines group by 1"))
    assert sums == {st.settlement_id: Decimal(st.total) / 100 for _, st in closed}
    assert query(lakehouse, f"select count(*) from {DATASET}.settlement_reports where quarantined_lines > 0 "
                            f"or lines_amount_sum <> total_amount") == [(0,)]
    names = dict(query(lakehouse, f"select marketplace_name, min(marketplace_id) from {DATASET}.settlement_lines "
                                  f"where marketplace_name like 'Non-Amazon%' or marketplace_name = 'Amazon.fr' "
                                  f"group by 1"))
    assert names == {"Amazon.fr": "A13V1IB3VIYZZH", "Non-Amazon US": "ATVPDKIKX0DER",
                     "Non-Amazon CA": "A2EUQ1WTGCTBG2", "Non-Amazon UK": "A1F83G8C2ARO7P"}
    assert query(lakehouse, f"select count(*), count(marketplace_id) from {DATASET}.settlement_lines "
                            f"where transaction_type = 'Liquidations'")[0] in [(n, n) for n in range(1, 10_000)]
    assert {st.charset for _, st in closed} == {"UTF-8", "Cp1252"}
