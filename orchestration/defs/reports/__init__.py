"""Reports: the settlement reconciliation workbook and page per seller account, downstream of the marts."""

from orchestration.defs.reports.assets import defs

__all__ = ["defs"]
