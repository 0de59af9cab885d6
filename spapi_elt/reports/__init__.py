"""The settlement reconciliation report: a workbook and an offline HTML page per seller account, drawn
from the finance and ROI marts. Plain Python (no Dagster): the asset in orchestration/defs/reports wires it.

    marts.py     the report's rows, read-only from the lakehouse (every figure is a mart column)
    columns.py   which mart column each table shows, as which type
    workbook.py  the .xlsx (openpyxl)
    charts.py    inline SVG charts
    page.py      the self-contained HTML page
    publish.py   atomic write (temporary file, fsync, os.replace)
    generate.py  one pair per seller into the reports folder, and the all-accounts roll-up
"""

from spapi_elt.reports.generate import PublishedReport, publish_reports, publish_rollup, reports_dir

__all__ = ["PublishedReport", "publish_reports", "publish_rollup", "reports_dir"]
