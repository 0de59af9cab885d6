"""The single entry Dagster loads (workspace.yaml): each area's definitions, merged, plus the resources
every area shares. Cross-cutting policy lives here once: one writer on the lakehouse (the `lakehouse`
pool, limited to 1 by the instance configuration in orchestration/dagster.yaml) and run retries.

    dagster dev -w workspace.yaml        # the UI on http://127.0.0.1:3000
    dagster definitions validate -w workspace.yaml
"""

import dagster as dg

from orchestration.defs import automation, checks, ingest, reports, transform
from orchestration.resources import LakehouseResource, SpApiResource

RESOURCES = {
    "lakehouse": LakehouseResource(),
    # The PII keys are read from the environment when a step protects PII (SpApiResource.protector), not
    # required at start-up: steps that only name accounts (dbt, reports) run without them.
    "spapi": SpApiResource(),
}

defs = dg.Definitions.merge(ingest.defs, transform.defs, checks.defs, reports.defs, automation.defs,
                            dg.Definitions(resources=RESOURCES))
