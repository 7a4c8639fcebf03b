"""The one driver pair: run a generator of steps with the sync or the async client.

Every multi-step operation of a toolkit (a call, a description for a front door) is a
generator of :data:`~fly_tools.tools.runtime.Step` values; these two loops perform the
steps and feed the results back, so no decision is written twice for sync and async.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from fly_tools.tools.runtime import Step, ToolkitRuntime


def drive_sync(runtime: ToolkitRuntime, steps: Generator[Step, Any, Any]) -> Any:
    """Run any step generator with the sync client and return its result."""
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = steps.throw(error) if error is not None else steps.send(value)
        except StopIteration as done:
            return done.value
        value, error = None, None
        try:
            value = runtime.perform_sync(step)
        except BaseException as exc:  # handed to the pipeline, which re-raises
            error = exc


async def drive_async(runtime: ToolkitRuntime, steps: Generator[Step, Any, Any]) -> Any:
    """Run any step generator with the async client and return its result."""
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = steps.throw(error) if error is not None else steps.send(value)
        except StopIteration as done:
            return done.value
        value, error = None, None
        try:
            value = await runtime.perform_async(step)
        except BaseException as exc:  # handed to the pipeline, which re-raises
            error = exc
