"""Pydantic models: endpoint arguments, Fly's machine config, validated identifiers."""

from fly_tools.models.args import *  # noqa: F403
from fly_tools.models.args import FlyArgs
from fly_tools.models.config import Duration, MachineConfig, MachineGuest

__all__ = ["Duration", "FlyArgs", "MachineConfig", "MachineGuest"]
