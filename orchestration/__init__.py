"""The Dagster code location of the SP-API lakehouse: wiring only.

definitions.py is the single entry; defs/<area>/ registers each area's assets, checks, jobs, schedules and
sensors; resources.py the resources every area shares; demo.py runs the main job on the sandbox (`make
demo`). What a step does lives elsewhere: the source in dlt_sources/spapi, the run, purge, dbt runner and
reports in spapi_elt, SQL meaning in dbt_project. No business logic here.
"""
