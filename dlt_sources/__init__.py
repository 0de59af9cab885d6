"""dlt sources of the SP-API lakehouse."""
