"""dlt's working directory beside a DuckDB file (<folder>/.dlt) holds that file's pipeline state: its resume points
and the settlements it already loaded. A second lakehouse file in the same folder would load through the first one's
state and skip what the first already holds, so it is refused by name (lakehouse.claim_working_directory)."""

from __future__ import annotations

import duckdb
import pytest

from dlt_sources.spapi.config import ConfigError
from dlt_sources.spapi.tables import to_table
from spapi_elt.lakehouse import load_facts, pipeline
from spapi_sandbox.generate import build_world
from tests.spapi_elt.test_import_settlements import import_cli, write_files
from tests.spapi_elt.test_lake_settlement_import import ARGUMENTS


def test_a_second_lakehouse_file_in_a_folder_is_refused_before_it_loads(tmp_path, capsys):
    first, second = tmp_path / "shop-a.duckdb", tmp_path / "shop-b.duckdb"
    load_facts(pipeline(first), [to_table("api_audit_log", [{"kind": "probe", "outcome": "ok"}])])
    load_facts(pipeline(first), [to_table("api_audit_log", [{"kind": "probe", "outcome": "ok"}])])  # its own: fine
    with duckdb.connect(str(first), read_only=True) as con:
        assert con.execute("select count(*) from raw_spapi.api_audit_log").fetchone()[0] == 2
    with pytest.raises(ConfigError, match="already holds dlt's state of the lakehouse shop-a.duckdb"):
        pipeline(second)

    seller = build_world(ARGUMENTS).sellers[0]
    write_files(seller, tmp_path / "inbox")
    assert import_cli(tmp_path / "inbox", "--seller-id", seller.account.seller_id, "--lakehouse", second) == 2
    assert "keep each lakehouse file in a folder of its own" in capsys.readouterr().err
    assert not second.exists()
    own = tmp_path / "shop-b" / "shop-b.duckdb"  # in a folder of its own, it loads
    assert import_cli(tmp_path / "inbox", "--seller-id", seller.account.seller_id, "--lakehouse", own) == 0
    with duckdb.connect(str(own), read_only=True) as con:
        assert con.execute("select count(distinct settlement_id) from raw_spapi.settlement_lines").fetchone()[0] >= 3
