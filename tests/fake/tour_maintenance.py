"""A tour of the maintenance and metadata endpoints on the demo world, for any client driver.

It cordons web-1 and puts it back, reads and changes its memory limit, and works its
metadata through every metadata endpoint, asserting on each answer. It leaves web-1
started, uncordoned, at its full memory and with its original metadata.
"""

from __future__ import annotations

from typing import Any

from fly_tools.client import NotFoundError
from fly_tools.testing.world import WEB_1
from tests.fake.tour import Tour

WEB_1_ARGS: dict[str, Any] = {"app_name": "web", "machine_id": WEB_1}
ORIGINAL_METADATA = {"fly_process_group": "app", "fly_platform_version": "v2"}


def maintenance_tour() -> Tour:
    """Every maintenance and metadata endpoint, once or more, on web-1."""
    yield from _cordon()
    yield from _memory()
    yield from _metadata()


def _cordon() -> Tour:
    m = WEB_1_ARGS
    answer = yield "fly_cordon_machine", m
    assert answer == {"ok": True}
    machine = yield "fly_get_machine", m
    assert machine["cordoned"] is True
    assert machine["state"] == "started"  # cordoned, not stopped
    yield "fly_uncordon_machine", m
    machine = yield "fly_get_machine", m
    assert machine["cordoned"] is False


def _memory() -> Tour:
    m = WEB_1_ARGS
    memory = yield "fly_get_machine_memory", m
    assert memory["limit_mb"] == 256
    assert 0 < memory["available_mb"] < 256
    lowered = yield "fly_set_machine_memory_limit", m | {"limit_mb": 192}
    assert lowered["limit_mb"] == 192
    assert lowered["available_mb"] == memory["available_mb"] - 64
    reclaimed = yield "fly_reclaim_machine_memory", m | {"amount_mb": 10_000}
    assert reclaimed == {"actual_mb": lowered["available_mb"]}  # only what is free
    restored = yield "fly_set_machine_memory_limit", m | {"limit_mb": 256}
    assert restored == memory


def _metadata() -> Tour:
    m = WEB_1_ARGS
    before = yield "fly_get_machine_metadata", m
    assert before == ORIGINAL_METADATA
    versions = yield "fly_list_machine_versions", m
    yield "fly_set_machine_metadata_key", m | {"key": "role", "value": "primary"}
    role = yield "fly_get_machine_metadata_key", m | {"key": "role"}
    assert role == {"value": "primary"}
    machine = yield "fly_get_machine", m
    yield (
        "fly_update_machine_metadata",
        m | {"changes": {"role": None, "tier": "gold"}, "machine_version": machine["version"]},
    )
    after = yield "fly_get_machine_metadata", m
    assert after == ORIGINAL_METADATA | {"tier": "gold"}
    yield "fly_delete_machine_metadata_key", m | {"key": "tier"}
    missing = yield "fly_get_machine_metadata_key", m | {"key": "tier"}
    assert isinstance(missing, NotFoundError)
    final = yield "fly_get_machine_metadata", m
    assert final == ORIGINAL_METADATA
    # Metadata changes neither make a new machine version nor restart the machine.
    assert (yield "fly_list_machine_versions", m) == versions
    assert (yield "fly_get_machine", m)["state"] == "started"
