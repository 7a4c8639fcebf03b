"""Fly.io macaroons: read, narrow (attenuate), mint and verify ``FlyV1`` tokens.

Needs the ``macaroons`` extra (``msgpack``). See :mod:`fly_tools.macaroons.wire` for the
format and :mod:`fly_tools.macaroons.caveats` for the caveats.
"""

from fly_tools.macaroons.caveats import (
    ALL,
    CONTROL,
    CREATE,
    DELETE,
    READ,
    WRITE,
    Access,
    Action,
    AppFeatureSet,
    Apps,
    Caveat,
    Denial,
    FeatureSet,
    MachineFeatureSet,
    Machines,
    Organization,
    ValidityWindow,
    Volumes,
    mask_letters,
    parse_mask,
)
from fly_tools.macaroons.codec import MalformedError, decode_set
from fly_tools.macaroons.toolkit import Attenuation
from fly_tools.macaroons.wire import (
    FLY,
    AttenuationError,
    Macaroon,
    NotAMacaroonError,
    append_encoded,
    attenuate,
    decode,
    mint,
    parse_header,
    permission_tokens,
)
from fly_tools.macaroons.wrappers import Command, Commands, IfPresent, IsUser, Unknown

__all__ = [
    "ALL",
    "CONTROL",
    "CREATE",
    "DELETE",
    "FLY",
    "READ",
    "WRITE",
    "Access",
    "Action",
    "AppFeatureSet",
    "Apps",
    "Attenuation",
    "AttenuationError",
    "Caveat",
    "Command",
    "Commands",
    "Denial",
    "FeatureSet",
    "IfPresent",
    "IsUser",
    "Macaroon",
    "MachineFeatureSet",
    "Machines",
    "MalformedError",
    "NotAMacaroonError",
    "Organization",
    "Unknown",
    "ValidityWindow",
    "Volumes",
    "append_encoded",
    "attenuate",
    "decode",
    "decode_set",
    "mask_letters",
    "mint",
    "parse_header",
    "parse_mask",
    "permission_tokens",
]
