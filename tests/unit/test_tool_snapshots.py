"""Each tool's schema as a model sees it matches its reviewed JSON snapshot; drift names the fix."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from fly_tools import ENDPOINTS
from fly_tools.risk import DEFAULT_GROUPS, GROUPS
from tests.snapshots import refresh, schemas

NOW = schemas.current()


def test_every_tool_matches_its_snapshot() -> None:
    message = schemas.drift(NOW, schemas.stored())
    if message:
        pytest.fail(message, pytrace=False)


def test_one_snapshot_per_catalogue_record_and_no_other() -> None:
    assert sorted(schemas.stored()) == sorted(ENDPOINTS)
    assert sorted(NOW) == sorted(ENDPOINTS)


def test_a_snapshot_says_what_a_reviewer_checks() -> None:
    for name, snap in schemas.stored().items():
        endpoint = ENDPOINTS[name]
        assert snap["function"]["name"] == name
        assert snap["metadata"]["risk"] == endpoint.risk.label
        assert snap["metadata"]["group"] == endpoint.group
        assert snap["default"] is endpoint.default
        assert snap["function"]["parameters"]["type"] == "object"


def test_the_default_tools_are_the_default_groups() -> None:
    assert schemas.default_names() == {
        name for name, snap in NOW.items() if snap["metadata"]["group"] in DEFAULT_GROUPS
    }
    assert set().union(*(schemas.names_in_group(g) for g in GROUPS)) == set(ENDPOINTS)


def test_drift_names_each_tool_and_the_one_command_that_refreshes() -> None:
    kept = copy.deepcopy(NOW)
    kept["fly_delete_volume"]["function"]["description"] = "Something else."
    kept["fly_made_up"] = kept.pop("fly_list_apps")
    message = schemas.drift(NOW, kept)
    assert "changed: fly_delete_volume" in message
    assert "new: fly_list_apps" in message
    assert "gone: fly_made_up" in message
    assert '-    "description": "Something else.",' in message
    assert message.splitlines()[-1].endswith("python -m tests.snapshots.refresh")
    assert schemas.drift(NOW, copy.deepcopy(NOW)) == ""


def test_a_changed_argument_schema_is_drift() -> None:
    kept = copy.deepcopy(NOW)
    del kept["fly_create_app"]["function"]["parameters"]["properties"]["org_slug"]
    assert "changed: fly_create_app" in schemas.drift(NOW, kept)
    kept = copy.deepcopy(NOW)
    kept["fly_create_app"]["metadata"]["risk"] = "read"
    assert "changed: fly_create_app" in schemas.drift(NOW, kept)


def test_the_refresh_writes_what_the_test_reads_and_drops_the_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(schemas, "FOLDER", tmp_path)
    monkeypatch.setattr(refresh, "FOLDER", tmp_path)
    (tmp_path / "fly_made_up.json").write_text("{}")
    (tmp_path / "fly_get_app.json").write_text(json.dumps({"stale": True}))
    assert refresh.main() == 0
    assert schemas.stored() == NOW
    assert schemas.drift(NOW, schemas.stored()) == ""
    out = capsys.readouterr().out
    assert f"{len(NOW)} snapshot(s) written, 1 removed" in out
    assert schemas.write(NOW) == ([], [])  # a second refresh changes nothing


def test_the_command_in_the_message_is_this_module() -> None:
    assert f"python -m {refresh.__name__}" == schemas.REFRESH


def test_contributing_names_the_refresh_command_and_real_paths() -> None:
    root = schemas.FOLDER.parents[2]
    guide = (root / "CONTRIBUTING.md").read_text()
    assert schemas.REFRESH in guide
    paths = re.findall(r"`((?:fly_tools|tests)/[^`<\s]*)`", guide)
    assert "tests/snapshots/tools/" in guide
    assert paths
    assert [p for p in paths if not (root / p).exists()] == []
