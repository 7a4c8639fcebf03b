"""The demo behind ``fly-tools demo``: an agent tends an app on the fake Fly API, pausing for a human.

    from fly_tools.demo import Reviewer, run_demo

    report = run_demo(reviewer=Reviewer("approve"))   # or "reject", "ask"
    print(report.answer)

Layers: :mod:`~fly_tools.demo.plans` (the scripted model's plans) under
:mod:`~fly_tools.demo.agent` (``create_agent`` with human-in-the-loop middleware,
pauses answered by a :class:`Reviewer`) under :mod:`~fly_tools.demo.run` (the fake
and live variants).
"""

from fly_tools.demo.agent import DemoReport, Review, Reviewer, run_agent, show_steps
from fly_tools.demo.plans import operator_model, reporter_model
from fly_tools.demo.run import (
    AGENT_ID,
    LIVE_TASK,
    MODEL_ENV,
    SCRIPTED_LABEL,
    TASK,
    DemoError,
    failed_calls,
    load_model,
    model_from_env,
    run_demo,
    run_live,
)

__all__ = [
    "AGENT_ID",
    "LIVE_TASK",
    "MODEL_ENV",
    "SCRIPTED_LABEL",
    "TASK",
    "DemoError",
    "DemoReport",
    "Review",
    "Reviewer",
    "failed_calls",
    "load_model",
    "model_from_env",
    "operator_model",
    "reporter_model",
    "run_agent",
    "run_demo",
    "run_live",
    "show_steps",
]
