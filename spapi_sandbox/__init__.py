"""A local SP-API: Amazon's wire format, generated seller data, real rate limits, faults on purpose."""
