"""`spapi-elt import-settlements`: settlement files downloaded from Seller Central (Reports > Payments > All
Statements) into the same raw tables as the API's settlement documents, so every mart treats them alike.

Finance teams hold years of these files, older than anything the API still lists. V2 and the older "Flat File"
layout both load (the flat-file package tells them apart by their header).

One settlement, however it arrived:
- a file is a document whose report id is `file-` + the SHA-256 of its content: importing it again (under any
  name, plain or compressed) is recorded as `already imported` and loads nothing;
- the import shares the settlements resource's state (which settlements are loaded, and a fingerprint of
  their content: total, line count, sum of lines) with the API path. A file whose settlement the API
  delivered with the same content is recorded as `identical` and loads no line, and so is a later API
  document of a settlement a file delivered. Different content loads as a new version, newest wins, as a
  re-issue does.

A file that cannot be read is named with its reason (and line, where one is at fault), audited, and the other
files load; lines that do not parse go to the quarantine like the API path's. Each file gets an audit record
(`settlement_import`). The run holds the lakehouse's lock, and finishes what an interrupted run left first.

On a lake the same, through the pipeline of the account set whose state knows the seller's settlements
(lake_settlements.py gives the rule), under that account set's lock; the files already imported are read from the
lake's Parquet.
"""

from __future__ import annotations

import collections
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dlt

from dlt_sources.spapi.audit import AuditEvent, AuditKind
from dlt_sources.spapi.flatfiles import FlatFileError, parse_settlement
from dlt_sources.spapi.locales import MARKETPLACE_IDS_BY_CODE, MARKETPLACES
from dlt_sources.spapi.settlements import UNREADABLE, document_items
from dlt_sources.spapi.tables import to_table
from spapi_elt.lake import Lake, as_lake, is_lake
from spapi_elt.lake_settlements import imported_report_ids, settlements_pipeline
from spapi_elt.lakehouse import (
    finish_interrupted_loads,
    lakehouse_path,
    lakehouse_setting,
    load_facts,
    pipeline,
    recovery_event,
)
from spapi_elt.lakehouse_lock import LakehouseBusy, lakehouse_lock
from spapi_elt.settlement_files import SettlementFile, SettlementFileError, charset_for, settlement_files

# A settlement's currency names its marketplace where only one marketplace pays out in it; EUR does not.
_CURRENCY_MARKETPLACE = {currency: MARKETPLACE_IDS_BY_CODE[code] for currency, code in (
    ("USD", "US"), ("CAD", "CA"), ("MXN", "MX"), ("BRL", "BR"), ("GBP", "UK"), ("SEK", "SE"), ("PLN", "PL"),
    ("TRY", "TR"), ("AED", "AE"), ("SAR", "SA"), ("EGP", "EG"), ("ZAR", "ZA"), ("INR", "IN"), ("JPY", "JP"),
    ("AUD", "AU"), ("SGD", "SG"))}
_KNOWN_IDS = {marketplace_id for marketplace_id, _, _ in MARKETPLACES}
_SAMPLE_TABLES = 4  # blocks of lines read to tell a file's marketplace


@dataclass
class ImportedFile:
    """What became of one file."""

    name: str
    path: Path  # the file on disk (an archive, for one of its members)
    outcome: str  # loaded, changed (a new version of a loaded settlement), identical, already imported, unreadable
    settlement_id: str | None = None
    lines: int = 0
    quarantined: int = 0
    error: str = ""


@dataclass
class ImportResult:
    lakehouse: Path | str  # the DuckDB file, or the lake's URL
    files: list[ImportedFile] = field(default_factory=list)

    @property
    def unreadable(self) -> list[ImportedFile]:
        return [f for f in self.files if f.outcome == "unreadable"]


def import_settlements(paths: list[Path], *, seller_id: str, account: str | None = None,
                       marketplace_id: str | None = None, charset: str | None = None,
                       lakehouse: str | Path | None = None, wait: bool = False,
                       on_wait: Callable[[str], None] | None = None,
                       on_file: Callable[[ImportedFile], None] | None = None) -> ImportResult:
    """Import every settlement file the paths name (see the module docstring); `on_file` hears of each as it is
    done. A path that names no file fails before anything is imported (SettlementFileError).

    A lake (spapi_elt/lake.py) loads through the pipeline whose state knows the seller's settlements
    (lake_settlements.py), under that account set's lock, as its ingest does. No PII purge follows, on a lake
    or a file: a settlement holds no buyer data (its flat-file spec has contains_pii false)."""
    if marketplace_id is not None and marketplace_id not in _KNOWN_IDS:
        raise SettlementFileError(f"unknown marketplace id {marketplace_id!r}")
    files = settlement_files(paths)
    setting = lakehouse_setting(lakehouse)
    if is_lake(setting):
        return _import_into_lake(files, as_lake(setting), seller_id, account, marketplace_id, charset, wait, on_wait,
                                 on_file)
    path = lakehouse_path(setting, "importing settlement files (spapi-elt import-settlements)")
    result = ImportResult(path)
    with lakehouse_lock(path, "import-settlements", wait=wait, on_wait=on_wait):
        pipe = pipeline(path)
        recovered = finish_interrupted_loads(pipe, path)
        _import(pipe, files, _imported_report_ids(pipe, seller_id), recovered, result, seller_id, account,
                marketplace_id, charset, on_file)
    return result


def _import_into_lake(files: list[SettlementFile], lake: Lake, seller_id: str, account: str | None,
                      marketplace_id: str | None, charset: str | None, wait: bool,
                      on_wait: Callable[[str], None] | None,
                      on_file: Callable[[ImportedFile], None] | None) -> ImportResult:
    name = settlements_pipeline(lake, seller_id)
    own = lake.workdir / name  # that account set's working directory: its lock and recovery marker
    result = ImportResult(lake.url)
    with lakehouse_lock(own, "import-settlements", wait=wait, on_wait=on_wait):
        if settlements_pipeline(lake, seller_id) != name:  # an ingest of another account set got there first
            raise LakehouseBusy(f"the settlements of seller {seller_id} moved to another account set's pipeline of "
                                f"{lake.url} while waiting for {name}: run again")
        pipe = pipeline(lake.url, name=name)
        recovered = finish_interrupted_loads(pipe, own, dedupe=False)  # staging dedupes a lake's copies
        _import(pipe, files, imported_report_ids(lake, seller_id), recovered, result, seller_id, account,
                marketplace_id, charset, on_file)
    return result


def _import(pipe: dlt.Pipeline, files: list[SettlementFile], known: set[str], recovered: list[str],
            result: ImportResult, seller_id: str, account: str | None, marketplace_id: str | None,
            charset: str | None, on_file: Callable[[ImportedFile], None] | None) -> None:
    """Load the files through `pipe` (whose lock the caller holds), then their audit records and quarantine."""
    events: list[AuditEvent] = [recovery_event(recovered)] if recovered else []
    quarantine: list[dict[str, Any]] = []

    def done(imported: ImportedFile) -> None:
        result.files.append(imported)
        events.append(AuditEvent(
            kind=AuditKind.SETTLEMENT_IMPORT, account=account or seller_id, seller_id=seller_id,
            operation="import-settlements", outcome=imported.outcome,
            detail=f"{Path(imported.name).name} settlement {imported.settlement_id or '-'} "
                   f"{imported.lines} lines, {imported.quarantined} quarantined {imported.error}".strip()[:500]))
        if on_file is not None:
            on_file(imported)

    source = _settlement_files_source(files, seller_id, marketplace_id, charset, known, quarantine.extend, done)
    try:
        pipe.run(source, loader_file_format="parquet")
    finally:
        facts = [to_table("api_audit_log", [e.as_row() for e in events])] if events else []
        if quarantine:
            facts.append(to_table("flat_file_quarantine", quarantine))
        load_facts(pipe, facts)


def _imported_report_ids(pipe: dlt.Pipeline, seller_id: str) -> set[str]:
    """The file documents already loaded for the seller (report ids `file-...`) in the DuckDB file."""
    with pipe.sql_client() as client:
        exists = client.execute_sql("select count(*) from information_schema.tables where table_schema = %s "
                                    "and table_name = 'settlement_report_documents'", client.dataset_name)
        if not exists[0][0]:
            return set()  # no settlement has been loaded yet
        rows = client.execute_sql(
            "select report_id from settlement_report_documents where seller_id = %s and report_id like 'file-%%'",
            seller_id)
    return {row[0] for row in rows or []}


@dlt.source(name="spapi")  # the API source's name: the import shares the settlements resource's state
def _settlement_files_source(files: list[SettlementFile], seller_id: str, marketplace_id: str | None,
                             charset: str | None, known: set[str], quarantine: Callable[[list[dict[str, Any]]], None],
                             done: Callable[[ImportedFile], None]) -> Any:
    @dlt.resource(name="settlements", write_disposition="merge")
    def settlements() -> Iterator[Any]:
        state = dlt.current.resource_state()
        loaded = state.setdefault("loaded_settlements", {}).setdefault(seller_id, {})
        for file in files:
            yield from _file_items(file, seller_id, marketplace_id, charset, known, loaded, quarantine, done)

    return settlements


def _file_items(file: SettlementFile, seller_id: str, marketplace_id: str | None, charset: str | None,
                known: set[str], loaded: dict[str, str], quarantine: Callable[[list[dict[str, Any]]], None],
                done: Callable[[ImportedFile], None]) -> Iterator[Any]:
    imported = ImportedFile(file.name, file.path, "unreadable")
    try:
        digest, size, utf8 = file.identify()  # a broken archive or gzip stream fails here, before any item
        report_id = f"file-{digest[:32]}"
        if report_id in known:
            imported.outcome = "already imported"
            done(imported)
            return
        marketplace = marketplace_id or _marketplace_of(file, seller_id, charset or charset_for(utf8, None))
        items = document_items(
            file.open, seller_id=seller_id, marketplace_id=marketplace, report_id=report_id,
            document_id=Path(file.name).name, created_at=datetime.now(UTC), size=size,
            charset=charset or charset_for(utf8, marketplace), loaded=loaded,
            quarantine=lambda rows: _quarantined(imported, rows, quarantine))
        first = next(items)  # the document's errors show before its first item, or not at all
    except (*UNREADABLE, OSError, EOFError) as error:
        imported.error = f"{type(error).__name__}: {(str(error).splitlines() or [''])[0]}"[:500]
        done(imported)
        return
    for item in itertools.chain([first], items):
        table = item.meta.hints.get("table_name")
        if table == "settlement_lines":
            imported.lines += item.data.num_rows
        elif table == "settlement_report_documents":
            imported.settlement_id, imported.outcome = item.data["settlement_id"], item.data["content"]
        yield item
    known.add(report_id)
    done(imported)


def _quarantined(imported: ImportedFile, rows: list[dict[str, Any]],
                 quarantine: Callable[[list[dict[str, Any]]], None]) -> None:
    imported.quarantined += len(rows)
    first = rows[0]
    imported.error = f"first quarantined: line {first['line_number']}: {first['reason']}"[:500]
    quarantine(rows)



def _marketplace_of(file: SettlementFile, seller_id: str, charset: str) -> str:
    """The marketplace a file's settlement is for, when the user did not say: the one most of its first lines
    name (Multi-Channel Fulfilment names count for their country), else the one its currency names."""
    with file.open() as stream:
        parsed = parse_settlement(stream, seller_id=seller_id, charset=charset, threads=False)
        counts: collections.Counter[str] = collections.Counter()
        for table in itertools.islice(parsed.lines, _SAMPLE_TABLES):
            counts.update(m for m in table["marketplace_id"].to_pylist() if m)
        currency = parsed.summary["currency"]
    ranked = counts.most_common(2)
    if ranked and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
        return ranked[0][0]
    if currency in _CURRENCY_MARKETPLACE:
        return _CURRENCY_MARKETPLACE[currency]
    raise FlatFileError(f"cannot tell which marketplace the {currency} settlement is for: pass --marketplace-id")
