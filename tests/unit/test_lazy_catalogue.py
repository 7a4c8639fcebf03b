"""The package's catalogue loads its opt-in areas on first need, and reads as if it never did."""

from __future__ import annotations

import copy
import importlib
import json
import pickle
import subprocess
import sys
import textwrap

import pytest

from fly_tools.catalogue import AREAS, ENDPOINTS, Endpoint, guide
from fly_tools.risk import DEFAULT_GROUPS, GROUPS, SCOPES
from fly_tools.toolkit import select_endpoints


def _area_records(area: str) -> tuple[Endpoint, ...]:
    records: tuple[Endpoint, ...] = importlib.import_module(f"fly_tools.catalogue.{area}").RECORDS
    return records


def test_the_area_table_names_the_groups_each_area_module_holds() -> None:
    for area, groups in AREAS.items():
        assert {e.group for e in _area_records(area)} == groups, area
    assert {e.group for e in guide.RECORDS} == set(DEFAULT_GROUPS)
    opt_in = [group for groups in AREAS.values() for group in groups]
    assert len(opt_in) == len(set(opt_in)), "a group lives in one area"
    assert set(opt_in) | set(DEFAULT_GROUPS) == set(GROUPS)
    assert not set(opt_in) & set(DEFAULT_GROUPS)


def test_the_catalogue_is_the_guide_then_each_area_in_table_order() -> None:
    expected = guide.RECORDS + tuple(e for area in AREAS for e in _area_records(area))
    assert ENDPOINTS.records == expected
    assert list(ENDPOINTS) == [e.name for e in expected]
    assert len(ENDPOINTS) == len(expected)
    for group in GROUPS:
        assert ENDPOINTS.in_group(group) == tuple(e for e in expected if e.group == group)


def test_a_default_toolkit_chooses_as_a_filter_over_every_record_would() -> None:
    for scope in SCOPES:
        every = tuple(e for e in ENDPOINTS.records if e.default and scope in e.scopes)
        assert select_endpoints(scope) == every, scope


def test_the_catalogue_copies_as_itself_and_pickles_as_its_records() -> None:
    assert copy.copy(ENDPOINTS) is ENDPOINTS
    assert copy.deepcopy(ENDPOINTS) is ENDPOINTS
    restored = pickle.loads(pickle.dumps(ENDPOINTS))  # noqa: S301 (our own bytes)
    assert restored.records == ENDPOINTS.records
    assert list(restored) == list(ENDPOINTS)


def _fresh(code: str) -> dict[str, object]:
    """Run ``code`` in a new interpreter; it prints one JSON object."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
    )
    answer: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


_LOADED = """
import json, sys
{code}
areas = sorted(m.rsplit(".", 1)[1] for m in sys.modules
               if m.startswith(("fly_tools.catalogue.", "fly_tools.models."))
               and m.rsplit(".", 1)[1] in {areas!r})
print(json.dumps({{"areas": sorted(set(areas)), "tenacity": "tenacity" in sys.modules}}))
"""


def _areas_loaded_by(code: str) -> dict[str, object]:
    return _fresh(_LOADED.format(code=textwrap.dedent(code), areas=sorted(AREAS)))


def test_a_default_toolkit_loads_no_opt_in_area_and_no_retry_loop() -> None:
    loaded = _areas_loaded_by(
        """
        import fly_tools
        toolkit = fly_tools.FlyToolkit(client=fly_tools.FlyClient(token="fm2_x"), scope="org")
        assert len(toolkit.get_tools()) == len(fly_tools.ENDPOINTS.in_groups(
            fly_tools.risk.DEFAULT_GROUPS))
        """
    )
    assert loaded == {"areas": [], "tenacity": False}


def test_naming_a_group_loads_its_area_only() -> None:
    loaded = _areas_loaded_by(
        """
        import fly_tools
        client = fly_tools.FlyClient(token="fm2_x")
        fly_tools.FlyToolkit(client=client, scope="org", groups=["network"]).get_tools()
        """
    )
    assert loaded["areas"] == ["certificates"]


@pytest.mark.parametrize(
    "code",
    [
        "from fly_tools.catalogue import ENDPOINTS; ENDPOINTS.get('fly_no_such_tool')",
        "from fly_tools.catalogue import ENDPOINTS; list(ENDPOINTS)",
        "from fly_tools.catalogue import ENDPOINTS; ENDPOINTS['fly_get_current_token']",
        "from fly_tools.docs import tools_markdown; tools_markdown()",
    ],
)
def test_a_name_not_loaded_yet_or_the_whole_catalogue_loads_every_area(code: str) -> None:
    assert _areas_loaded_by(code)["areas"] == sorted(AREAS)


def test_threads_loading_areas_at_once_see_each_area_once_and_whole() -> None:
    answer = _fresh(
        """
        import json, threading
        from fly_tools.catalogue import AREAS, ENDPOINTS
        from fly_tools.risk import GROUPS
        start = threading.Barrier(len(GROUPS) + 2)
        seen = {}
        def read(key, ask):
            start.wait()
            seen[key] = ask()
        jobs = [threading.Thread(target=read, args=(g, lambda g=g: ENDPOINTS.in_group(g)))
                for g in GROUPS]
        jobs.append(threading.Thread(target=read, args=("all", lambda: ENDPOINTS.records)))
        jobs.append(threading.Thread(
            target=read, args=("one", lambda: (ENDPOINTS["fly_authorize_token"],))))
        for job in jobs:
            job.start()
        for job in jobs:
            job.join()
        whole = ENDPOINTS.records
        same = all(seen[g] == tuple(e for e in whole if e.group == g) for g in GROUPS)
        print(json.dumps({"same": same, "all": seen["all"] == whole,
                          "one": seen["one"][0] is ENDPOINTS["fly_authorize_token"],
                          "names": len({e.name for e in whole}) == len(whole)}))
        """
    )
    assert answer == {"same": True, "all": True, "one": True, "names": True}
