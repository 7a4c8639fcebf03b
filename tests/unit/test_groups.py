"""Each group's facts are written once, on its record: the names, lists and tools agree with it."""

from __future__ import annotations

from dataclasses import replace
from typing import get_args

import pytest

from fly_tools.catalogue import ENDPOINTS, guide
from fly_tools.risk import DEFAULT_GROUPS, GROUP_OF, GROUP_RECORDS, GROUPS, Group


def test_the_records_name_each_group_once_in_the_order_of_the_group_type() -> None:
    assert tuple(g.name for g in GROUP_RECORDS) == get_args(Group) == GROUPS
    assert list(GROUP_OF) == list(GROUPS)


def test_the_default_groups_are_the_records_that_say_default() -> None:
    assert tuple(g.name for g in GROUP_RECORDS if g.default) == DEFAULT_GROUPS
    assert set(DEFAULT_GROUPS) < set(GROUPS)


def test_every_group_has_a_sentence_and_some_tools() -> None:
    for group in GROUP_RECORDS:
        assert group.sentence == group.sentence.strip() != ""
        assert not group.sentence.endswith("."), group.name  # it stands in a table cell
        assert ENDPOINTS.in_group(group.name), group.name


def test_an_endpoint_is_default_exactly_when_its_group_is() -> None:
    for endpoint in ENDPOINTS.records:
        assert endpoint.default is GROUP_OF[endpoint.group].default
    # The guide's records are the default groups' tools, and no other area adds one.
    assert {e.name for e in ENDPOINTS.records if e.default} == {e.name for e in guide.RECORDS}


def test_a_record_of_an_unknown_group_is_refused_when_written() -> None:
    record = ENDPOINTS["fly_list_apps"]
    with pytest.raises(ValueError, match="unknown group 'widgets'"):
        replace(record, group="widgets")  # type: ignore[arg-type]
