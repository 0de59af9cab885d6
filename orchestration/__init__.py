"""The Dagster code location of the SP-API lakehouse (definitions.py is the single entry)."""
