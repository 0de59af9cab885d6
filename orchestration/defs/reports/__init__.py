"""Reports: the settlement reconciliation workbook and page, and the journal exports, per seller account, downstream
of the marts."""

import dagster as dg

from orchestration.defs.reports import assets, journals

defs = dg.Definitions.merge(assets.defs, journals.defs)

__all__ = ["defs"]
