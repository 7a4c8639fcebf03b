"""The regions the fake knows, and where an org's machines can be placed among them.

A placement asks for machines in a region expression (codes, geo regions such as
``europe`` or ``eu``, and ``any``); each region takes up to :data:`REGION_CAPACITY`
default-size machines of an org, fewer of a bigger guest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fly_tools.testing.errors import FakeBadRequestError

DEFAULT_REGION = "iad"
"""Where new machines and volumes go when nothing says otherwise; the region Fly names
nearest to the fake's callers."""

# (code, name, geo region, latitude, longitude, requires a paid plan, deprecated). Geo
# regions are fly-go's GeoRegion values (superfly/fly-go types.go:586-594): africa,
# asia_pacific, europe, north_america, south_america.
REGIONS: tuple[tuple[str, str, str, float, float, bool, bool], ...] = (
    ("ams", "Amsterdam, Netherlands", "europe", 52.37, 4.90, False, False),
    ("arn", "Stockholm, Sweden", "europe", 59.65, 17.93, False, False),
    ("bom", "Mumbai, India", "asia_pacific", 19.09, 72.87, True, False),
    ("cdg", "Paris, France", "europe", 48.86, 2.35, False, False),
    ("dfw", "Dallas, Texas (US)", "north_america", 32.78, -96.80, False, False),
    ("ewr", "Secaucus, NJ (US)", "north_america", 40.79, -74.06, False, False),
    ("fra", "Frankfurt, Germany", "europe", 50.11, 8.68, False, False),
    ("gru", "Sao Paulo, Brazil", "south_america", -23.55, -46.63, False, False),
    ("iad", "Ashburn, Virginia (US)", "north_america", 39.04, -77.49, False, False),
    ("jnb", "Johannesburg, South Africa", "africa", -26.20, 28.05, True, False),
    ("lax", "Los Angeles, California (US)", "north_america", 33.94, -118.41, False, False),
    ("lhr", "London, United Kingdom", "europe", 51.51, -0.13, False, False),
    ("nrt", "Tokyo, Japan", "asia_pacific", 35.62, 139.75, False, False),
    ("ord", "Chicago, Illinois (US)", "north_america", 41.89, -87.63, False, False),
    ("sin", "Singapore, Singapore", "asia_pacific", 1.35, 103.99, False, False),
    ("sjc", "San Jose, California (US)", "north_america", 37.35, -121.96, False, False),
    ("syd", "Sydney, Australia", "asia_pacific", -33.87, 151.21, False, False),
    ("yyz", "Toronto, Canada", "north_america", 43.68, -79.63, False, False),
    ("mad", "Madrid, Spain", "europe", 40.42, -3.70, False, True),
)
"""The regions the fake knows; the demo world's (ord, ams, iad, fra) are among them."""
CODES = {row[0] for row in REGIONS}
PLACEMENT_ALIASES = {
    "eu": "europe",
    "na": "north_america",
    "sa": "south_america",
    "as": "asia_pacific",
    "af": "africa",
}
"""Short aliases a placement's region expression may use (the spec's example is ``lhr,eu``),
by the geo region they stand for; the geo region's own name works too."""
REGION_CAPACITY = 100
"""Machines of the default size the fake lets an org place in one region."""


@dataclass(frozen=True)
class Placement:
    """Machines placed in one region, out of what the region can take."""

    region: str
    count: int
    capacity: int

    def to_wire(self) -> dict[str, Any]:
        """Fly's ``RegionPlacement``."""
        return {"region": self.region, "count": self.count, "concurrency": min(self.capacity, 10)}


def place(expression: str | None, count: int, compute: dict[str, Any] | None) -> list[Placement]:
    """Place ``count`` machines of size ``compute`` in the regions ``expression`` names, in
    order, filling each region before the next; count 0 asks for each region's limit."""
    wanted = placement_regions(expression or f"{DEFAULT_REGION},any")
    capacity = max(1, REGION_CAPACITY // _size_factor(compute))
    if count == 0:
        return [Placement(code, capacity, capacity) for code in wanted]
    placed, left = [], count
    for code in wanted:
        if left <= 0:
            break
        here = min(left, capacity)
        placed.append(Placement(code, here, capacity))
        left -= here
    return placed


def placement_regions(expression: str) -> list[str]:
    """Region codes for an expression of codes, geo regions (``europe`` or ``eu``) and ``any``."""
    found: list[str] = []
    for part in [x.strip() for x in expression.split(",") if x.strip()]:
        if part in CODES:
            matches = [part]
        elif part == "any":
            matches = sorted(CODES)
        else:
            geo = PLACEMENT_ALIASES.get(part, part)
            matches = [row[0] for row in REGIONS if row[2] == geo]
        if not matches:
            raise FakeBadRequestError(f"unknown region or alias {part!r} in {expression!r}")
        found += [code for code in matches if code not in found]
    return found


def _size_factor(compute: dict[str, Any] | None) -> int:
    # Bigger guests fill a region sooner: counted in default-size (1 cpu, 2 GB) units.
    guest = compute or {}
    cpus, memory = guest.get("cpus"), guest.get("memory_mb")
    units = cpus if isinstance(cpus, int) else 1
    gigabytes = memory if isinstance(memory, int) else 256
    return max(1, units, gigabytes // 2048)
