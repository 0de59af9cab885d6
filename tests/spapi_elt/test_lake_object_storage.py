"""A lake on object storage (`s3://`, spapi_elt/lake.py) against a real S3 server on loopback (tests/s3_server.py):
ingest writes it, dbt-duckdb reads it (spapi_elt/dbt_lake_filesystem.py), and the PII purge and the key rotation
rewrite its objects, with the same outcomes as a DuckDB file and a local lake. What stays local (dlt's working
directory, the locks, the key-check registry) is in a folder per lake under SPAPI_LAKE_WORKDIR."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from dlt_sources.spapi.pii import decrypt
from orchestration.resources import LakehouseResource
from spapi_elt import cli
from spapi_elt.dbt_runner import build
from spapi_elt.lake import DATASET, as_lake, lake_filesystem, lake_table_counts, lake_tables, readable_by
from spapi_elt.lake_key_rotation import rotate_lake
from spapi_elt.lake_rewrite import TEMPORARY_SUFFIX
from spapi_elt.purge import RETENTION_DAYS, purge_pii
from spapi_sandbox.generate import build_world
from spapi_sandbox.truth import truth
from tests.built_lakehouse import TIME_SCALE
from tests.conftest import launch_sandbox
from tests.dbt_project.test_lake_marts import LAKE_ARGUMENTS, marts
from tests.s3_server import BUCKET, running_s3_server, s3_environment
from tests.spapi_elt.ingest_helpers import protector_for, run_ingest
from tests.spapi_elt.pii_scan import scan
from tests.spapi_elt.test_import_settlements import import_cli, write_files
from tests.spapi_elt.test_key_safety import NEW, OLD, protector, spapi_elt
from tests.spapi_elt.test_lake_key_rotation import FIELD, ROTATE, SELLER, build_lake, names, tampered
from tests.spapi_elt.test_lake_settlement_import import ARGUMENTS as IMPORT_ARGUMENTS


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory):
    """The S3 server, and this process pointed at it (dlt's destination settings, a local working directory)."""
    workdir = tmp_path_factory.mktemp("s3-workdir")
    with running_s3_server() as endpoint, pytest.MonkeyPatch.context() as patch:
        environment = {**s3_environment(endpoint), "SPAPI_LAKE_WORKDIR": str(workdir / ".dlt-lake")}
        for name, value in environment.items():
            patch.setenv(name, value)
        yield environment


def download(lake: str, into: Path) -> Path:
    """Every object under the lake's prefix, as files under `into` (for the PII scan, which reads files)."""
    files = lake_filesystem(as_lake(lake))
    root = files.raw.rsplit("/", 1)[0]
    for path in files.fs.find(root):
        target = into / path.removeprefix(root + "/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(files.fs.cat_file(path))
    return into


@pytest.fixture(scope="module")
def world_on_s3(s3, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One small world ingested into a DuckDB file and into an S3 lake (its two accounts as two account sets, the
    first without a purge so that the scan finds its PII, the second ending with the purge of the whole lake);
    then a purge past every retention on both, and dbt-duckdb builds of both."""
    work = tmp_path_factory.mktemp("s3-world")
    lakehouse, lake = work / "file" / "lakehouse.duckdb", f"s3://{BUCKET}/world"
    sandbox = launch_sandbox(LAKE_ARGUMENTS, time_scale=TIME_SCALE)
    try:
        facts = truth(sandbox.world)
        sellers = [a["seller_id"] for a in facts["accounts"]]
        run_ingest(sandbox, lakehouse, purge=True)
        run_ingest(sandbox, lake, accounts=sellers[:1])
        protector, canaries = protector_for(sandbox), facts["pii_canaries"]
        before = scan(download(lake, work / "before"), protector, [*sellers, None], canaries)
        second = run_ingest(sandbox, lake, accounts=sellers[1:], purge=True)
    finally:
        sandbox.close()
    later = datetime.now(UTC).date() + timedelta(days=RETENTION_DAYS + 1)
    extra = {"file": purge_pii(lakehouse, today=later), "lake": purge_pii(lake, today=later)}
    after = scan(download(lake, work / "after"), protector, [*sellers, None], canaries)
    workdir = Path(s3["SPAPI_LAKE_WORKDIR"])
    after_workdir = scan(workdir, protector, [*sellers, None], canaries)
    as_of = datetime.fromtimestamp(facts["now"], UTC).date()
    built = {"file": build(lakehouse, as_of), "lake": build(lake, as_of)}
    return {"work": work, "lakehouse": lakehouse, "lake": lake, "sellers": sellers, "before": before, "second": second,
            "extra": extra, "after": after, "after_workdir": after_workdir, "built": built, "canaries": canaries}


def test_an_ingest_writes_the_lake_as_objects_and_nothing_locally_but_its_working_directory(world_on_s3, s3):
    lake = as_lake(world_on_s3["lake"])
    assert {"orders", "order_buyers", "settlement_lines", "financial_transactions"} <= set(lake_tables(lake))
    workdir = Path(s3["SPAPI_LAKE_WORKDIR"], "s3", BUCKET, "world")  # the lake's own: other lakes have theirs
    assert lake.local_root is None and lake.workdir == workdir and lake.warehouse == workdir / "warehouse.duckdb"
    assert sorted(p.name for p in workdir.glob("spapi__*") if p.is_dir()) == sorted(  # each account set's state
        f"spapi__{seller}" for seller in world_on_s3["sellers"])


def test_dagsters_checks_read_the_s3_lakes_raw_tables(world_on_s3):
    lake = as_lake(world_on_s3["lake"])
    with LakehouseResource(path=lake.url).raw_tables() as con:
        assert con is not None
        seen = {t: con.execute(f'select count(*) from raw_spapi."{t}"').fetchone()[0]
                for t in ("orders", "order_buyers")}
    counts = lake_table_counts(lake)
    assert seen == {t: counts[t] for t in seen} and all(seen.values())


def test_the_scan_finds_the_unpurged_accounts_pii_among_the_objects_then_none_after_the_purge(world_on_s3):
    before = world_on_s3["before"].decryptable_by_place(world_on_s3["work"] / "before")
    assert sum(n for place, n in before.items() if place.startswith("raw_spapi/order") and "[parquet]" in place) > 10
    assert world_on_s3["canaries"] and world_on_s3["before"].canary_hits == []  # never plaintext
    assert world_on_s3["second"].purged > 0  # the second account set's ingest purged the first one's objects too
    assert world_on_s3["after"].decryptable_by_place(world_on_s3["work"] / "after") == {}
    assert world_on_s3["after"].canary_hits == [] and world_on_s3["after_workdir"].canary_hits == []
    assert world_on_s3["after_workdir"].decryptable == {}  # dlt's loaded packages are gone from the working dir
    assert list((world_on_s3["work"] / "after" / DATASET / "order_buyers").glob("*.parquet"))  # what was scanned
    assert not list((world_on_s3["work"] / "after").rglob(f"*{TEMPORARY_SUFFIX}"))


def test_dbt_duckdb_reads_the_s3_lake_and_builds_the_marts_of_the_file(world_on_s3):
    for built in world_on_s3["built"].values():
        assert built.ok, built.failures()
    file_marts, lake_marts = marts(world_on_s3["lakehouse"]), marts(as_lake(world_on_s3["lake"]).warehouse)
    assert file_marts["finance.settlement_lines"] and sorted(lake_marts) == sorted(file_marts)
    assert [t for t in file_marts if lake_marts[t] != file_marts[t]] == []


def test_rotate_keys_on_s3_rewraps_every_value_so_only_the_new_key_decrypts(s3):
    lake = f"s3://{BUCKET}/rotation"
    plain = build_lake(lake, protector())
    done = spapi_elt("rotate-keys", "--lakehouse", lake, env={**ROTATE, **s3})
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Re-wrapped 76 encrypted values under key id 'k2'" in done.stdout
    only_new = protector(kek=f"k2:{NEW}").keyring
    after = names(lake)
    assert {k: decrypt(v, only_new, FIELD, SELLER) for k, v in after.items() if k in plain} == plain
    assert len(after) == 80  # no row lost or added (2 loads of 40)
    files = lake_filesystem(as_lake(lake))
    assert not files.fs.glob(f"{files.raw}/*/*{TEMPORARY_SUFFIX}")
    again = spapi_elt("rotate-keys", "--lakehouse", lake, env={**ROTATE, **s3})
    assert again.returncode == 0 and "Re-wrapped 0 encrypted values" in again.stdout, again.stdout


def test_a_rotation_on_s3_that_cannot_rewrap_a_value_changes_no_object(s3):
    lake = f"s3://{BUCKET}/refused"
    build_lake(lake, protector())
    files = lake_filesystem(as_lake(lake))
    # A wrapped data key tampered with in the last object: the first object's new copy is stored before it fails.
    last = sorted(files.fs.glob(f"{files.raw}/order_buyers/*.parquet"))[-1]
    pq.write_table(tampered(pq.read_table(last, filesystem=files.fs)), last, filesystem=files.fs)
    stored = {path: files.fs.cat_file(path) for path in files.fs.find(files.raw)}
    refused = spapi_elt("rotate-keys", "--lakehouse", lake, env={**ROTATE, **s3})
    assert refused.returncode == 2 and "nothing was changed" in refused.stderr, refused.stderr[-2000:]
    assert {path: files.fs.cat_file(path) for path in files.fs.find(files.raw)} == stored  # no copy left either


def test_a_rotation_on_s3_killed_between_two_objects_leaves_whole_objects_and_the_rerun_finishes(s3, monkeypatch):
    lake = f"s3://{BUCKET}/killed"
    plain = build_lake(lake, protector())
    fs = lake_filesystem(as_lake(lake)).fs  # fsspec's cached instance: the one the rotation uses
    copied = []
    real_copy = fs.copy

    def killed_on_the_second(source, target, *args, **kwargs):
        if copied:
            raise KeyboardInterrupt("killed")  # the second object's new copy is stored, not yet in place
        copied.append(target)
        return real_copy(source, target, *args, **kwargs)

    monkeypatch.setattr(fs, "copy", killed_on_the_second)
    rotation = protector(kek=f"k1:{OLD},k2:{NEW}", active="k2")
    with pytest.raises(KeyboardInterrupt):
        rotate_lake(as_lake(lake), rotation)
    monkeypatch.setattr(fs, "copy", real_copy)
    assert len(fs.glob(f"{lake_filesystem(as_lake(lake)).raw}/*/*{TEMPORARY_SUFFIX}")) == 1  # left over
    halfway = names(lake)  # every object whole: one under k2, the other still under k1
    assert sorted(sum(1 for k in plain if halfway[k].startswith(f"e1:{kid}:")) for kid in ("k1", "k2")) == [38, 38]

    result = rotate_lake(as_lake(lake), rotation)
    assert result.rewrapped == {f"{DATASET}.order_buyers.buyer__buyer_name": 38} and result.removable == ["k1"]
    keyring = protector(kek=f"k2:{NEW}").keyring
    assert {k: decrypt(v, keyring, FIELD, SELLER) for k, v in names(lake).items() if k in plain} == plain
    files = lake_filesystem(as_lake(lake))
    assert not files.fs.glob(f"{files.raw}/*/*{TEMPORARY_SUFFIX}")  # the leftover copy removed by the rerun


def test_settlement_files_import_into_s3_once(s3, tmp_path, capsys):
    seller = build_world(IMPORT_ARGUMENTS).sellers[0]
    seller_id, lake = seller.account.seller_id, f"s3://{BUCKET}/imported"
    expected = write_files(seller, tmp_path / "inbox")
    assert import_cli(tmp_path / "inbox", "--seller-id", seller_id, "--lakehouse", lake) == 0
    assert f"{len(expected)} of {len(expected)} files imported into {lake}" in capsys.readouterr().out
    assert as_lake(lake).workdir.joinpath(f"spapi__{seller_id}").is_dir()  # the seller's own pipeline, kept locally
    with readable_by(as_lake(lake), duckdb.connect()) as con:
        totals = dict(con.execute("select settlement_id, sum(amount) from read_parquet(?, union_by_name = true) "
                                  "group by 1", [as_lake(lake).table_files("settlement_lines")]).fetchall())
    assert totals == expected
    counts = lake_table_counts(as_lake(lake))
    assert import_cli(tmp_path / "inbox", "--seller-id", seller_id, "--lakehouse", lake) == 0
    assert capsys.readouterr().out.count("already imported, nothing new") == len(expected)
    again = lake_table_counts(as_lake(lake))
    assert again["settlement_lines"] == counts["settlement_lines"]
    assert again["settlement_report_documents"] == counts["settlement_report_documents"]


def test_the_demo_and_spark_say_they_need_a_local_lake(s3, capsys, monkeypatch):
    monkeypatch.setenv("SPAPI_DBT_TARGET", "spark")
    assert cli.main(["transform", "--lakehouse", f"s3://{BUCKET}/world"]) == 2
    assert cli.main(["demo", "--lakehouse", f"s3://{BUCKET}/demo"]) == 2
    errors = capsys.readouterr().err
    assert "hadoop-aws" in errors and "the demo on object storage" in errors, errors
