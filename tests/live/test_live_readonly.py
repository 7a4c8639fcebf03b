"""Read-only checks against the real Fly API; run only with FLY_API_TOKEN and FLY_TEST_APP set.

FLY_API_TOKEN=... FLY_TEST_APP=my-app .venv/bin/pytest -m live tests/live
"""

from __future__ import annotations

import os

import pytest

from fly_tools import FlyToolkit

pytestmark = [
    pytest.mark.live,
    pytest.mark.enable_socket,
    pytest.mark.skipif(
        not (os.environ.get("FLY_API_TOKEN") and os.environ.get("FLY_TEST_APP")),
        reason="needs FLY_API_TOKEN and FLY_TEST_APP",
    ),
]


def test_read_only_toolkit_lists_machines_and_volumes() -> None:
    toolkit = FlyToolkit.from_env(scope="readonly", app=os.environ["FLY_TEST_APP"])
    tools = {t.name: t for t in toolkit.get_tools()}
    machines = tools["fly_list_machines"].invoke({})
    assert "machine" in machines
    volumes = tools["fly_list_volumes"].invoke({})
    assert "volume" in volumes
    assert os.environ["FLY_API_TOKEN"] not in machines + volumes
