"""Red team: when Fly cannot say what the token may do, writes are refused and reads allowed."""

from __future__ import annotations

import pytest

from fly_tools import FlyToolkit, approve_all
from fly_tools.testing import FakeFly
from fly_tools.testing.faults import Fault
from fly_tools.testing.world import VOL_DATA_OLD
from fly_tools.tools.runtime import FlyToolError


@pytest.mark.parametrize("code", [500, 503, 404])
def test_an_authorize_error_refuses_writes_and_allows_reads(code: int) -> None:
    fake = FakeFly.demo()
    toolkit = FlyToolkit(client=fake.client("org", max_retries=0), scope="org", confirm=approve_all)
    fake.inject(Fault.status(code), count=50, match="POST /tokens/authorize")
    with pytest.raises(FlyToolError) as caught:
        toolkit.call("fly_delete_volume", {"app_name": "web", "volume_id": VOL_DATA_OLD})
    assert caught.value.artifact["executed"] is False
    assert "could not be checked" in str(caught.value)
    assert [r for r in fake.requests if r.method == "DELETE"] == []
    content, _ = toolkit.call("fly_list_machines", {"app_name": "web"})
    assert content


async def test_an_authorize_error_refuses_writes_async() -> None:
    fake = FakeFly.demo()
    toolkit = FlyToolkit(
        client=fake.async_client("org", max_retries=0), scope="org", confirm=approve_all
    )
    fake.inject(Fault.status(500), count=50, match="POST /tokens/authorize")
    with pytest.raises(FlyToolError):
        await toolkit.acall("fly_delete_volume", {"app_name": "web", "volume_id": VOL_DATA_OLD})
    assert [r for r in fake.requests if r.method == "DELETE"] == []
