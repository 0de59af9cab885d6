"""A seller's settlements on a lake (spapi_elt/lake.py): which account set's pipeline knows them, and which settlement
files the lake already holds, for `spapi-elt import-settlements` (settlement_import.py).

On a DuckDB file one dlt state knows every loaded settlement. On a lake each account set's pipeline has its own
state, so an import must go through the pipeline whose `settlements` state holds the seller's settlements
(`loaded_settlements[seller_id]`, which the API's settlements resource creates for every account it runs for, even
before one loads): that is the only way a file identical to an API document is `identical`, and an API document
identical to a file is too. The rule:

- exactly one pipeline of the lake knows the seller's settlements: that one;
- none: the seller's own pipeline (`pipeline_name([seller_id])`), the one `spapi-elt ingest` of that account alone
  uses;
- several (the seller was ingested in more than one account set): refused, naming them. Their states disagree on
  what is loaded, and no import can make them agree: writing one set's knowledge into the other's state would
  change what another account set's ingest believes behind its back, and picking one would let the others'
  ingests load the file's settlement again. The operator settles on one account set (README: "Scale-out").
"""

from __future__ import annotations

import dlt
import duckdb
from dlt.pipeline.exceptions import CannotRestorePipelineException

from spapi_elt.lake import Lake, LakeNotSupported, lake_pipeline_names, lake_tables, pipeline_name, readable_by

DOCUMENTS = "settlement_report_documents"


def settlements_pipeline(lake: Lake, seller_id: str) -> str:
    """The name of the lake pipeline an import of the seller's settlement files goes through (the module's rule)."""
    knowing = [name for name in lake_pipeline_names(lake) if seller_id in _loaded_settlements(lake, name)]
    if len(knowing) > 1:
        raise LakeNotSupported(
            f"importing settlement files of seller {seller_id}: the settlements of that seller are in the state of "
            f"several account sets of the lake {lake.url} ({', '.join(knowing)}), which disagree on what is loaded; "
            "ingest the seller in one account set only (README: 'Scale-out: a lake instead of one file')")
    return knowing[0] if knowing else pipeline_name([seller_id])


def _loaded_settlements(lake: Lake, name: str) -> dict[str, dict[str, str]]:
    """`loaded_settlements` of the pipeline's settlements resource state (seller id -> settlement id -> fingerprint);
    empty for a pipeline that never ran the settlements resource (or never committed a state)."""
    try:
        state = dlt.attach(name, pipelines_dir=str(lake.workdir)).state
    except CannotRestorePipelineException:  # a working directory without a state yet (killed before its first commit)
        return {}
    resource = state.get("sources", {}).get("spapi", {}).get("resources", {}).get("settlements", {})
    return resource.get("loaded_settlements", {})


def imported_report_ids(lake: Lake, seller_id: str) -> set[str]:
    """The settlement files (documents `file-...`) the lake holds for the seller, loaded through any pipeline: read
    from the Parquet of every load (a filesystem destination has no SQL client to ask)."""
    if DOCUMENTS not in lake_tables(lake):
        return set()  # no settlement has been loaded into the lake yet
    with readable_by(lake, duckdb.connect()) as con:
        rows = con.execute("select distinct report_id from read_parquet(?, union_by_name = true) "
                           "where seller_id = ? and report_id like 'file-%'",
                           [lake.table_files(DOCUMENTS), seller_id]).fetchall()
    return {row[0] for row in rows}
