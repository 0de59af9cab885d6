"""The application: what the `spapi-elt` command and the Dagster code location both call.

    ingest.py          one ingest run: the dlt source into the lakehouse, window replacement, audit, purge
    lakehouse.py       where the lakehouse is, its dlt pipeline, row counts, how far its data reaches
    window_replace.py  an explicit window's re-run deletes what the API no longer returns
    purge.py           PII retention: crypto-shred protected values past the retention window
    dbt_runner.py      `dbt build` over the lakehouse with the run's vars (as_of, window)
    reports/           the settlement reconciliation workbook and page per account, the finance summary
    demo.py            the demo's sandbox, accounts file and environment
    cli.py             `spapi-elt`

Not here: the SP-API source itself (dlt_sources/spapi: client, auth, reports, flat files, PII protection,
resources), SQL meaning (dbt_project/), Dagster wiring (orchestration/). Nothing here imports Dagster.
"""
