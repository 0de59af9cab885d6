"""The sandbox's own clock: real elapsed time, sped up by --time-scale.

Rate limits, report processing and token/URL expiry all run on this clock, so a test can
run an hour of Amazon time in seconds and still see Amazon's behaviour, only faster.
"""

from __future__ import annotations

import time


class SandboxClock:
    """Sandbox time in epoch seconds: `start + real monotonic elapsed * scale`."""

    def __init__(self, start: int, scale: float = 1.0) -> None:
        if scale <= 0:
            raise ValueError("time scale must be positive")
        self.start = start
        self.scale = float(scale)
        self._origin = time.monotonic()

    def now(self) -> float:
        return self.start + (time.monotonic() - self._origin) * self.scale

    def real_seconds(self, sandbox_seconds: float) -> float:
        """How long `sandbox_seconds` take in real time (for sleeping until a bucket refills)."""
        return sandbox_seconds / self.scale
