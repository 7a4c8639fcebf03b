"""The no-account kit: an embedded fake Fly Machines API, a scripted chat model and the demo.

    from fly_tools.testing import FakeFly, Fault

    fake = FakeFly.demo()                       # org acme, apps web and worker
    client = fake.client(scope="deploy")        # a FlyClient wired to the fake
    fake.inject(Fault.status(503), count=2, match="POST /apps/*/machines")
    fake.clock.advance(5)                       # virtual time: nothing really waits

Layers: :mod:`~fly_tools.testing.state` and the area modules beside it (world and rules,
no HTTP) under :mod:`~fly_tools.testing.http` and its handlers (routes from the
catalogue, httpx transport, ASGI app), under :class:`FakeFly` (the facade).
``python -m fly_tools.testing`` serves it over HTTP (:mod:`~fly_tools.testing.command`).
:mod:`~fly_tools.testing.scripted` holds a chat model that follows a fixed plan (no LLM),
imported only when named. The agent demo built on them is :mod:`fly_tools.demo`.
"""

from fly_tools.testing.clock import FakeClock
from fly_tools.testing.errors import FakeApiError
from fly_tools.testing.fake import BASE_URL, FakeFly, SpecViolationError
from fly_tools.testing.faults import Fault, FaultRule
from fly_tools.testing.http import LoggedRequest

__all__ = [
    "BASE_URL",
    "FakeApiError",
    "FakeClock",
    "FakeFly",
    "Fault",
    "FaultRule",
    "LoggedRequest",
    "SpecViolationError",
]
