"""The single entry Dagster loads. Each area (ingest, transform, checks, schedules) registers its own
definitions under orchestration/defs/ as it is built; until then the location loads empty."""

import dagster as dg

defs = dg.Definitions()
