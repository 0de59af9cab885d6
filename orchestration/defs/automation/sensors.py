"""The sensors.

seller_accounts_sensor: the seller-account partitions follow the accounts file. Always running: without it
no partition exists to run or backfill.

settlement_inbox_sensor: settlement files a finance person drops in the inbox (spapi_elt/settlement_inbox.py)
are imported, and the marts and reports rebuilt, within a minute: a run of the settlement files job whenever
the waiting files change. A folder naming no configured account fails the tick, naming the folder.

new_settlement_reports_sensor: settlements are event-driven. Amazon issues a settlement report about every
14 days, on no fixed day. The sensor lists each account's settlement reports created since its cursor
(getReports: one call a page, well inside the operation's quota at one tick every 15 minutes) and, for every
account with a new one, requests a run of the settlements asset and everything downstream for that
account's partition of the day the newest report was created. The cursor (newest createdTime per seller)
moves only after a list succeeded, so a failing account is retried on the next tick and the others are not
held up. An account that cannot be listed (a missing secret, an endpoint out of reach) fails the tick with its
reason, unless other accounts have runs to request: then those go ahead and the error is logged, and the next
tick without them fails.
"""

import json
from datetime import UTC, datetime, timedelta

import dagster as dg

from dlt_sources.spapi.client import SpApiClient
from dlt_sources.spapi.config import secret_resolver
from dlt_sources.spapi.reports import list_reports, parse_time
from dlt_sources.spapi.settings import SETTLEMENT_REPORT
from orchestration.defs.automation.jobs import settlement_files_job, settlements_job
from orchestration.defs.automation.status import default_status
from orchestration.defs.ingest.partitions import ACCOUNT, DAY, accounts_partitions, covered_until
from orchestration.defs.ingest.settlement_files import InboxResource
from orchestration.resources import LakehouseResource, SpApiResource
from spapi_elt.settlement_inbox import inbox_path, waiting

FIRST_LOOK_BACK = timedelta(days=3)  # a new cursor starts here: history is the backfill's job, not the sensor's


@dg.sensor(job=settlements_job, minimum_interval_seconds=15 * 60,
           default_status=default_status(dg.DefaultSensorStatus))
def new_settlement_reports_sensor(context: dg.SensorEvaluationContext, spapi: SpApiResource):
    cursor: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    config = spapi.accounts()
    resolve = secret_resolver(config)
    requests, skipped = [], []
    for account in config.accounts:
        since = (datetime.fromisoformat(cursor[account.seller_id]) if account.seller_id in cursor
                 else covered_until() - FIRST_LOOK_BACK)
        try:
            with SpApiClient(account, resolve) as client:
                reports = list(list_reports(client, SETTLEMENT_REPORT, created_since=since))
        except Exception as exc:  # one account's outage must not hold up the others
            skipped.append(f"{account.name}: {exc}")
            continue
        created = sorted(t for t in (parse_time(r.get("createdTime")) for r in reports) if t and t > since)
        if not created:
            continue
        newest = created[-1]
        cursor[account.seller_id] = newest.isoformat()
        partition = dg.MultiPartitionKey({ACCOUNT: account.name, DAY: newest.astimezone(UTC).date().isoformat()})
        requests.append(dg.RunRequest(run_key=f"{account.seller_id}:{newest.isoformat()}", partition_key=str(partition),
                                      tags={"spapi/trigger": "new settlement report"}))
    if skipped and not requests:  # nothing else to do this tick: fail it, so the UI shows why
        raise dg.Failure("settlement reports could not be listed for " + "; ".join(skipped))
    for note in skipped:  # the other accounts' runs go ahead; the next tick without them fails visibly
        context.log.error(f"settlement reports not listed for {note}")
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(cursor, sort_keys=True))


@dg.sensor(minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Adds and removes seller-account partitions to match the accounts configuration.")
def seller_accounts_sensor(context: dg.SensorEvaluationContext, spapi: SpApiResource):
    try:
        configured = [a.name for a in spapi.accounts().accounts]
    except Exception as exc:  # a missing or broken file fails the tick, naming why; never half-applied
        raise dg.Failure(f"accounts configuration unreadable: {exc}") from exc
    known = set(context.instance.get_dynamic_partitions(accounts_partitions.name))
    added, removed = [a for a in configured if a not in known], sorted(known - set(configured))
    if not (added or removed):
        return dg.SkipReason("seller accounts unchanged")
    requests = []
    if added:
        requests.append(accounts_partitions.build_add_request(added))
    if removed:
        requests.append(accounts_partitions.build_delete_request(removed))
    return dg.SensorResult(dynamic_partitions_requests=requests)


@dg.sensor(job=settlement_files_job, minimum_interval_seconds=60,
           default_status=default_status(dg.DefaultSensorStatus),
           description="Imports settlement files dropped in the inbox (one folder per account), then the marts.")
def settlement_inbox_sensor(context: dg.SensorEvaluationContext, spapi: SpApiResource, lakehouse: LakehouseResource,
                            inbox: InboxResource):
    folder = inbox_path(lakehouse.resolved(), inbox.folder)
    found = waiting(folder, spapi.accounts())
    if found.unknown:  # files nobody will import: say so on every tick until they are moved
        names = ", ".join(str(p) for p in found.unknown)
        raise dg.Failure(f"settlement inbox folders that name no configured account: {names} (name the folder "
                         "after the account in the accounts file, or its seller id)")
    if not found.files:
        return dg.SkipReason(f"no settlement files waiting in {folder}")
    count = sum(len(paths) for paths in found.files.values())
    context.log.info(f"{count} settlement files waiting for {', '.join(found.files)}")
    return dg.RunRequest(run_key=found.fingerprint(), tags={"spapi/trigger": "settlement files in the inbox"})
