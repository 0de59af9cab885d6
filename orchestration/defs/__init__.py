"""The areas of the code location, each registering its own definitions: ingest, transform, checks, schedules."""
