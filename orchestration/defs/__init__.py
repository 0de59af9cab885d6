"""The areas of the code location, each registering its own definitions: ingest, transform, checks, reports,
automation (jobs, schedules, sensors)."""
