"""Everything a running sandbox knows: the generated world plus what clients changed at run time."""

from __future__ import annotations

from dataclasses import dataclass

from spapi_sandbox.clock import SandboxClock
from spapi_sandbox.faults import FaultProfile
from spapi_sandbox.ratelimit import RateLimiter
from spapi_sandbox.report_store import ReportStore
from spapi_sandbox.tokens import TokenStore
from spapi_sandbox.world import World


@dataclass
class SandboxState:
    world: World
    clock: SandboxClock
    faults: FaultProfile
    rate_limiter: RateLimiter
    tokens: TokenStore  # LWA access tokens and Restricted Data Tokens issued so far
    reports: ReportStore  # requested and Amazon-generated reports, with their documents
    base_url: str = ""  # set by the server once it is bound; report document URLs use it
