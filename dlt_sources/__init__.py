"""dlt sources of the SP-API lakehouse, in the shape of dlt's verified sources: one folder per source
(spapi/), holding the source and nothing else. The pipeline that runs it is the application's (spapi_elt)."""
