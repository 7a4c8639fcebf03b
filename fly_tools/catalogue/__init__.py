"""The endpoint catalogue: one record per Fly Machines API operation; everything else derives from it.

Tools, toolkits, the fake Fly API's routes, the README table and the spec-conformance
tests all read this table. Every fact about an endpoint is a field of its record, so
adding an endpoint means adding one record, its model and its fake behaviour
(``tests/unit/test_synthetic_endpoint.py`` shows it).

The records live beside this module, one file per area: :mod:`~fly_tools.catalogue.guide`
holds the 31 endpoints a toolkit offers by default; the others (:data:`AREAS`) hold the
rest of Fly's operations, in groups a toolkit offers only when asked (``groups=``,
``include=`` or a policy that names them), and are imported on first need.
"""

from __future__ import annotations

from collections.abc import Mapping

from fly_tools.catalogue import guide
from fly_tools.catalogue.access import Need
from fly_tools.catalogue.record import (
    FLY_LIMITS,
    TARGET_ID_FIELD,
    Catalogue,
    Endpoint,
    FlowKind,
    HttpMethod,
    LazyCatalogue,
    Limit,
    Phrase,
    RateClass,
    ResultKind,
    TargetKind,
)
from fly_tools.risk import Group

AREAS: Mapping[str, frozenset[Group]] = {
    "certificates": frozenset({"certificates", "network"}),
    "maintenance": frozenset({"maintenance", "metadata"}),
    "secretkeys": frozenset({"secretkeys", "secret_values"}),
    "platform": frozenset({"credentials", "platform", "snapshots"}),
}
"""The opt-in areas in catalogue order: the module beside this one holding each, and its
groups, so that finding a group's records imports only its own area."""

ENDPOINTS: Catalogue = LazyCatalogue(guide.RECORDS, package=__name__, areas=AREAS)
"""Every endpoint, in catalogue order: the guide's at once, each other area on first need."""

__all__ = [
    "AREAS",
    "ENDPOINTS",
    "FLY_LIMITS",
    "TARGET_ID_FIELD",
    "Catalogue",
    "Endpoint",
    "FlowKind",
    "HttpMethod",
    "Limit",
    "Need",
    "Phrase",
    "RateClass",
    "ResultKind",
    "TargetKind",
]
