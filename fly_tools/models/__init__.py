"""Pydantic models: endpoint arguments, Fly's machine config, validated identifiers."""

from fly_tools.models.base import FlyArgs
from fly_tools.models.fields import Duration

__all__ = ["Duration", "FlyArgs"]
