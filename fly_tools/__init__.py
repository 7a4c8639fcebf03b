"""fly_tools: the Fly.io Machines API as LangChain tools, with guardrails and a fake Fly API."""

from fly_tools.catalogue import ENDPOINTS, Catalogue, Endpoint
from fly_tools.risk import GROUPS, SCOPES, Group, RiskTier, Scope

__all__ = [
    "ENDPOINTS",
    "GROUPS",
    "SCOPES",
    "Catalogue",
    "Endpoint",
    "Group",
    "RiskTier",
    "Scope",
]
