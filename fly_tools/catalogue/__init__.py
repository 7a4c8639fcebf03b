"""The endpoint catalogue: one record per Fly Machines API operation; everything else derives from it.

Tools, toolkits, the fake Fly API's routes, the README table and the spec-conformance
tests all read this table. Every fact about an endpoint is a field of its record, so
adding an endpoint means adding one record, its model and its fake behaviour
(``tests/unit/test_synthetic_endpoint.py`` shows it).

The records live beside this module, one file per area: :mod:`~fly_tools.catalogue.guide`
holds the 31 endpoints a toolkit offers by default; the others hold the rest of Fly's
operations, in groups a toolkit offers only when asked (``groups=``, ``include=`` or a
policy that names them).
"""

from __future__ import annotations

from fly_tools.catalogue import certificates, guide, maintenance, platform, secretkeys
from fly_tools.catalogue.access import Need
from fly_tools.catalogue.record import (
    FLY_LIMITS,
    TARGET_ID_FIELD,
    Catalogue,
    Endpoint,
    FlowKind,
    HttpMethod,
    Limit,
    Phrase,
    RateClass,
    ResultKind,
    TargetKind,
)

ENDPOINTS = Catalogue(
    (
        *guide.RECORDS,
        *certificates.RECORDS,
        *maintenance.RECORDS,
        *secretkeys.RECORDS,
        *platform.RECORDS,
    )
)
"""Every endpoint, in catalogue order."""

__all__ = [
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
