"""A local SP-API: Amazon's wire format, generated seller data, real rate limits, faults on purpose.

The product never imports it (to the source it is just another endpoint); the demo, `make ui`, the
benchmarks and the tests start it as a process through launcher.py, and read its ground truth.
"""
