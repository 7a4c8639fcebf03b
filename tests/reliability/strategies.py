"""Hypothesis strategies for every tool's arguments, derived from the catalogue and tool schemas.

``valid_arguments`` draws inputs a careful model could send; ``hostile_arguments`` draws
one bad field at a time (wrong type, a boolean for a number, out of range, path-altering
or oversized identifier, unknown enum value, missing or unknown field, and values that
must never reach Fly: env var names with '=', NUL or CR/LF, non-finite numbers anywhere
in a machine config, durations Go cannot read, mount paths with control characters or
beyond 4096 characters) and says which field is bad. Both read the JSON schema the model
sees, so a new endpoint is covered without edits.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from hypothesis import strategies as st

from fly_tools.catalogue import Endpoint
from fly_tools.testing.world import MACHINES, VOL_DATA, VOL_DATA_OLD
from tests.reliability.samples import Args, sample_arguments

IDENTIFIERS = frozenset(
    {
        "app_name",
        "machine_id",
        "volume_id",
        "secret_name",
        "org_slug",
        "region",
        "lease_nonce",
        "source_volume_id",
        "current_version",
        "version",
        "name",
        "hostname",
        "ip",
        "key",
    }
)
"""Fields typed as validated identifiers (``fly_tools.models.identifiers``)."""

LENIENT_TYPES: dict[str, frozenset[str]] = {
    # Durations take a number of seconds as well as "30s" (models.fields.Duration).
    "timeout": frozenset({"integer", "float"}),
    "expiry": frozenset({"integer", "float"}),
    # One state may come as a bare string, or Fly's "a,b" (models.platform._listed).
    "state": frozenset({"string"}),
    # Bytes come as base64 text or as an array of byte values (models.secretkeys.Bytes).
    **dict.fromkeys(("ciphertext", "signature", "associated_data"), frozenset({"array"})),
}
"""Value types a field accepts beyond what its schema shows, by design."""

# Pieces no identifier may contain: each alters a URL, a header or is not ASCII.
PATH_ALTERING = [
    "/",
    "/../",
    "..",
    "?",
    "#",
    "%2F",
    "%2e%2e",
    "\\",
    " ",
    "\t",
    "\r\n",
    "\x00",
    "&",
    ";",
    "é",
    "\u202e",
    "日本",
    "\U0001f642",
]

# ---------------------------------------------------------------- valid inputs

_TEXT = st.text(max_size=40)
_IDENTIFIER_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "app_name": st.sampled_from(["web", "worker"])
    | st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True),
    "machine_id": st.sampled_from(sorted(MACHINES.values()))
    | st.from_regex(r"[a-z0-9]{1,20}", fullmatch=True),
    "volume_id": st.sampled_from([VOL_DATA, VOL_DATA_OLD])
    | st.from_regex(r"vol_[a-z0-9]{1,16}", fullmatch=True),
    "source_volume_id": st.sampled_from([VOL_DATA, VOL_DATA_OLD]),
    "secret_name": st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,30}", fullmatch=True),
    "org_slug": st.sampled_from(["acme", "personal"]),
    "region": st.sampled_from(["ord", "ams", "iad", "fra", "syd"]),
    "lease_nonce": st.from_regex(r"[A-Za-z0-9_-]{1,32}", fullmatch=True),
    "current_version": st.from_regex(r"[A-Za-z0-9]{1,26}", fullmatch=True),
    "version": st.from_regex(r"[A-Za-z0-9]{1,26}", fullmatch=True),
    # Lower case: the model lower-cases a hostname, and the path must match what was drawn.
    "hostname": st.sampled_from(["www.example.com", "shop.example.com", "*.example.org"])
    | st.from_regex(r"(?:[a-z0-9]{1,10}\.){1,3}[a-z]{2,6}", fullmatch=True),
    # Canonical text: the model normalises an address, the path must match what was drawn.
    "ip": st.ip_addresses().map(str),
    "key": st.sampled_from(["role", "fly_process_group", "fly_platform_version"])
    | st.from_regex(r"[a-z_][a-z0-9_-]{0,10}(?:\.[a-z0-9_-]{1,8})?", fullmatch=True),
}
_BY_NAME: dict[str, st.SearchStrategy[Any]] = {
    "expiry": st.sampled_from(["720h", "1h30m", "45m"]) | st.integers(60, 10**6),
    "unset": st.lists(st.from_regex(r"[a-z_][a-z0-9_]{0,20}", fullmatch=True), max_size=3),
    "action": st.sampled_from(["r", "rw", "rwcdC", "C"]),
    "updated_after": st.sampled_from(["2024-05-01T12:00:00Z", "2026-01-02T03:04:05.5+02:00"]),
}
"""Fields whose values follow a rule the schema does not show."""
_NAMES = {
    "fly_create_volume": st.from_regex(r"[a-z0-9_]{1,30}", fullmatch=True),
    "fly_create_machine": st.from_regex(
        r"[a-zA-Z0-9](?:[a-zA-Z0-9_-]{0,20}[a-zA-Z0-9])?", fullmatch=True
    ),
}
# cpu_kind, cpus, memory_mb together: Fly's sizes (models.fields.check_guest_size).
_GUEST = st.sampled_from(
    [
        ("shared", 1, 256),
        ("shared", 2, 1024),
        ("shared", 8, 16384),
        ("performance", 1, 2048),
        ("performance", 4, 16384),
    ]
)
_REDRAWN = frozenset({*_IDENTIFIER_VALUES, "name"})
"""Required fields whose sample value is replaced by a drawn one."""
_PAIRED = frozenset({"cpu_kind", "cpus", "memory_mb", "volume_id", "mount_path"})
"""Machine fields only valid together: drawn by ``_pair_fields``."""
_CONFIGS = st.sampled_from(
    [{}, {"auto_destroy": True}, {"init": {"cmd": ["bin/server"]}}, {"metadata": {"team": "a"}}]
)


@st.composite
def valid_arguments(draw: st.DrawFn, endpoint: Endpoint, schema: dict[str, Any]) -> Args:
    """Arguments that satisfy the tool's schema, with optional fields present at random."""
    properties: dict[str, Any] = schema.get("properties", {})
    args = sample_arguments(endpoint, schema)
    paired = _PAIRED if "mount_path" in properties else frozenset()
    for name, prop in properties.items():
        if name in paired or (name in args and name not in _REDRAWN):
            continue
        if name not in args and not draw(st.booleans()):
            continue
        args[name] = _valid_value(draw, endpoint, name, prop)
    _pair_fields(draw, endpoint, args)
    return args


def _valid_value(draw: st.DrawFn, endpoint: Endpoint, name: str, prop: dict[str, Any]) -> Any:
    if name == "name" and endpoint.name in _NAMES:
        return draw(_NAMES[endpoint.name])
    if name in _IDENTIFIER_VALUES:
        return draw(_IDENTIFIER_VALUES[name])
    if name == "machine_config":
        return draw(_CONFIGS)
    if name == "timeout" and prop.get("type") == "string":
        return draw(st.sampled_from(["30s", "1m", "500ms"]) | st.integers(0, 3600))
    if name in _BY_NAME:
        return draw(_BY_NAME[name])
    return draw(_from_schema(prop))


def _pair_fields(draw: st.DrawFn, endpoint: Endpoint, args: Args) -> None:
    if "mount_path" not in endpoint.args_model.model_fields:
        return
    if draw(st.booleans()):
        kind, cpus, memory = draw(_GUEST)
        args.update(cpu_kind=kind, cpus=cpus, memory_mb=memory)
    if draw(st.booleans()):
        args.update(volume_id=draw(_IDENTIFIER_VALUES["volume_id"]), mount_path="/data")


def _from_schema(prop: dict[str, Any]) -> st.SearchStrategy[Any]:
    if "anyOf" in prop:
        return st.one_of([_from_schema(option) for option in prop["anyOf"]])
    if "enum" in prop:
        return st.sampled_from(prop["enum"])
    kind = prop.get("type", "string")
    if kind == "integer":
        return st.integers(prop.get("minimum", 0), prop.get("maximum", 10_000))
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        items = _from_schema(prop.get("items", {}))
        if prop.get("items", {}).get("type") == "string" and "enum" not in prop["items"]:
            items = st.text(min_size=1, max_size=20).filter(str.strip)
        return st.lists(items, min_size=max(1, prop.get("minItems", 0)), max_size=4)
    if kind == "object":
        keys = st.from_regex(r"[A-Z][A-Z0-9_]{0,10}", fullmatch=True)
        return st.dictionaries(keys, _TEXT, min_size=prop.get("minProperties", 0), max_size=4)
    if prop.get("contentEncoding") == "base64":
        return st.binary(min_size=1, max_size=64).map(lambda b: base64.b64encode(b).decode())
    if prop.get("pattern") == "^/":
        return st.from_regex(r"/[a-z]{1,10}", fullmatch=True)
    if "pattern" in prop:
        limit = prop.get("maxLength", 40)
        return st.from_regex(prop["pattern"], fullmatch=True).filter(lambda s: len(s) <= limit)
    return st.text(min_size=prop.get("minLength", 0), max_size=min(40, prop.get("maxLength", 40)))


# ---------------------------------------------------------------- hostile inputs

# Bad values by their own type. Words start with "z" so none reads as a boolean ("yes").
_BAD_POOLS: dict[str, st.SearchStrategy[Any]] = {
    "string": st.from_regex(r"z[a-z]{2,8}", fullmatch=True),
    "integer": st.integers(),
    "float": st.floats().filter(lambda f: not f.is_integer()),
    "boolean": st.booleans(),
    "array": st.lists(st.integers(), max_size=3),
    "object": st.dictionaries(
        st.from_regex(r"[a-z]{1,3}", fullmatch=True), st.integers(), max_size=2
    ),
}
# Pools each JSON type takes: a boolean is never a number, nor a number a boolean
# (models.fields.Int, Bool).
_ACCEPTS: dict[str, frozenset[str]] = {
    "string": frozenset({"string"}),
    "integer": frozenset({"integer"}),
    "number": frozenset({"integer", "float"}),
    "boolean": frozenset({"boolean"}),
    "array": frozenset({"array"}),
    "object": frozenset({"object"}),
}


def _json_types(prop: dict[str, Any]) -> set[str]:
    if "anyOf" in prop:
        return set().union(*(_json_types(option) for option in prop["anyOf"]))
    return {prop.get("type", "string")}


def _wrong_type(name: str, prop: dict[str, Any]) -> st.SearchStrategy[Any] | None:
    accepted = set(LENIENT_TYPES.get(name, frozenset()))
    for kind in _json_types(prop):
        accepted |= _ACCEPTS[kind]
    options = [pool for kind, pool in _BAD_POOLS.items() if kind not in accepted]
    return st.one_of(options) if options else None


def _out_of_range(prop: dict[str, Any]) -> st.SearchStrategy[Any] | None:
    options: list[st.SearchStrategy[Any]] = []
    if "minimum" in prop:
        options.append(st.integers(max_value=prop["minimum"] - 1) | st.just(-(10**30)))
    if "maximum" in prop:
        options.append(st.integers(min_value=prop["maximum"] + 1) | st.just(10**30))
    if "maxLength" in prop:
        options.append(st.text(min_size=prop["maxLength"] + 1, max_size=prop["maxLength"] + 50))
        options.append(st.just("x" * 100_000))
    if prop.get("minLength", 0) > 0:
        options.append(st.just(""))
    if prop.get("minItems", 0) > 0:
        options.append(st.just([]))
    if "maxItems" in prop:
        options.append(st.lists(st.just("created"), min_size=prop["maxItems"] + 1))
    if prop.get("minProperties", 0) > 0:
        options.append(st.just({}))
    if "pattern" in prop:
        pattern = re.compile(prop["pattern"])
        off = st.sampled_from(["a/b", "a b", "..%2F", "x\x00", "?q=1", "é", "a#b", "a\r\nb"])
        options.append(off.filter(lambda s: not pattern.search(s)))
    if "enum" in prop:
        options.append(st.text(max_size=12).filter(lambda s: s not in prop["enum"]))
    if "enum" in prop.get("items", {}):
        enum = prop["items"]["enum"]
        options.append(st.lists(st.text(max_size=8).filter(lambda s: s not in enum), min_size=1))
    return st.one_of(options) if options else None


_BAD_IDENTIFIER = st.builds(
    lambda head, bad, tail: head + bad + tail,
    st.from_regex(r"[a-z0-9]{0,8}", fullmatch=True),
    st.sampled_from(PATH_ALTERING),
    st.from_regex(r"[a-z0-9]{0,8}", fullmatch=True),
) | st.integers(300, 100_000).map(lambda n: "a" * n)


# ---------------------------------------------------------------- values never sent

_NON_FINITE = st.sampled_from([float("nan"), float("inf"), float("-inf")])
BAD_ENV_NAMES = st.builds(
    lambda head, bad, tail: head + bad + tail,
    st.from_regex(r"[A-Z_]{0,6}", fullmatch=True),
    st.sampled_from(["=", "\x00", "\r\n", "\n", "\r", " ", "\t", "-", "."]),
    st.from_regex(r"[A-Z0-9_]{0,6}", fullmatch=True),
) | st.sampled_from(["", "1ABC", "A" * 257])
"""Environment variable names Fly must never receive."""
BAD_PATHS = (
    st.builds(
        lambda head, bad, tail: "/" + head + bad + tail,
        st.from_regex(r"[a-z/]{0,8}", fullmatch=True),
        st.sampled_from(["\x00", "\r\n", "\n", "\r", "\x7f"]),
        st.from_regex(r"[a-z/]{0,8}", fullmatch=True),
    )
    | st.integers(4097, 6000).map(lambda n: "/" + "d" * (n - 1))
    | st.sampled_from(["data", ""])
)
"""Mount and file paths Fly must never receive: control characters, too long, relative."""
BAD_DURATIONS = (
    _NON_FINITE
    | st.floats(min_value=1e-300, max_value=1e-10)
    | st.floats(min_value=9.3e9, max_value=1e300)
    | st.integers(min_value=9_223_372_037)
    | st.integers(max_value=-1)
    | st.booleans()
    | st.sampled_from(["99999999999h", "1.5ns", "-1s", "1e7s", "infs", "nans", "30", "1e+07s"])
)
"""Durations Go cannot read, or that overflow its int64 nanoseconds."""
BAD_WHOLE = st.booleans() | _NON_FINITE | st.sampled_from([1.5, "8080.0", "1e3", 2**63])
"""What must never pass for a whole number."""
BAD_BYTES = st.sampled_from(["", "   ", "!!!!", "zz z", "a", "YQ==YQ==", "\x00AAAA"]) | st.lists(
    st.integers(0, 255), max_size=3
).flatmap(lambda good: st.sampled_from([256, -1, True, 1.0, "7"]).map(lambda bad: [*good, bad]))
"""Neither base64 text nor an array of byte values 0-255."""
BAD_METADATA_KEYS = st.sampled_from([".", "..", ".hidden", "a..b", "", "k" * 257]) | st.builds(
    lambda head, bad: head + bad,
    st.from_regex(r"[a-z]{0,6}", fullmatch=True),
    st.sampled_from(["/", "\x00", "\r\n", " ", "=", "%2F", "?", "é"]),
)
"""Metadata keys Fly must never receive: path-walking, control characters, too long."""
_CHAIN_WITH_KEY = (
    "-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n"
    "-----BEGIN PRIVATE KEY-----\nS0VZ\n-----END PRIVATE KEY-----\n"
)
BAD_PEM = st.sampled_from(
    [
        _CHAIN_WITH_KEY,
        "",
        "not a pem",
        "-----BEGIN CERTIFICATE-----\n%%%\n-----END CERTIFICATE-----",
    ]
)
"""Chains and keys that are not what their field promises (a key inside a chain above all)."""


def _in_machine_config(draw: st.DrawFn) -> dict[str, Any]:
    """A machine config with one value that must never be sent, somewhere deep inside."""
    env = {draw(BAD_ENV_NAMES): "x"}
    options: list[dict[str, Any]] = [
        {"env": env},
        {"processes": [{"cmd": ["run"], "env": env}]},
        {"containers": [{"name": "app", "env": env}]},
        {"processes": [{"secrets": [{"env_var": draw(BAD_ENV_NAMES)}]}]},
        {"mounts": [{"volume": VOL_DATA_OLD, "path": draw(BAD_PATHS)}]},
        {"files": [{"guest_path": draw(BAD_PATHS), "raw_value": "eA=="}]},
        {"restart": {"gpu_bid_price": draw(_NON_FINITE)}},
        {"spot": {"max_price_fraction": draw(_NON_FINITE)}},
        {"containers": [{"name": "app", "healthchecks": [{"grace_period": draw(_NON_FINITE)}]}]},
        {"checks": {"up": {"type": "tcp", "port": 8080, "interval": draw(BAD_DURATIONS)}}},
        {"stop_config": {"timeout": draw(BAD_DURATIONS)}},
        {"services": [{"protocol": "tcp", "internal_port": draw(BAD_WHOLE)}]},
        {"guest": {"cpus": draw(st.booleans())}},
    ]
    return draw(st.sampled_from(options))


def _never_sent(draw: st.DrawFn, name: str, prop: dict[str, Any], args: Args) -> Any | None:
    """A value for field ``name`` that must never reach Fly, or ``None`` if it has none."""
    if name == "env":
        return {draw(BAD_ENV_NAMES): "x"}
    if name == "machine_config":
        return _in_machine_config(draw)
    if name == "mount_path":
        args.setdefault("volume_id", VOL_DATA_OLD)
        return draw(BAD_PATHS)
    if name in ("timeout", "expiry") and "string" in _json_types(prop):
        return draw(BAD_DURATIONS)
    if name == "values":  # each name becomes an environment variable
        return draw(st.sampled_from([{draw(BAD_ENV_NAMES): "x"}, {"API_KEY": "a\x00b"}]))
    if name == "changes":
        return {draw(BAD_METADATA_KEYS): "x"}
    if name in ("fullchain", "private_key"):
        return draw(BAD_PEM)
    if prop.get("contentEncoding") == "base64":
        return draw(BAD_BYTES)
    if "integer" in _json_types(prop):
        return draw(BAD_WHOLE)
    return None


@st.composite
def hostile_arguments(
    draw: st.DrawFn, endpoint: Endpoint, schema: dict[str, Any]
) -> tuple[Args, str]:
    """Valid arguments with exactly one field made bad; returns them and that field's name."""
    properties: dict[str, Any] = schema.get("properties", {})
    args = sample_arguments(endpoint, schema)
    choices: list[tuple[str, st.SearchStrategy[Any] | None]] = []
    for name, prop in properties.items():
        choices.append((name, _wrong_type(name, prop)))
        choices.append((name, _out_of_range(prop)))
        if name in IDENTIFIERS:
            choices.append((name, _BAD_IDENTIFIER))
    usable = [(name, strategy) for name, strategy in choices if strategy is not None]
    missing = [name for name in schema.get("required", ()) if name in args]
    # A tool without arguments (fly_list_regions) can only be given one it does not have.
    kinds = ["value"] * 4 + ["missing"] * bool(missing) + ["unknown"] + ["never sent"] * 3
    kinds = kinds if usable else ["unknown"]
    kind = draw(st.sampled_from(kinds))
    if kind == "never sent" and properties:
        field = draw(st.sampled_from(list(properties)))
        value = _never_sent(draw, field, properties[field], args)
        if value is not None:
            args[field] = value
            return args, field
        kind = "value"
    if kind == "missing":
        field = draw(st.sampled_from(missing))
        del args[field]
        return args, field
    if kind == "unknown":
        # A distinctive prefix, so finding the name in the error text means something.
        field = "zz_" + draw(st.from_regex(r"[a-z_]{1,10}", fullmatch=True))
        args[field] = draw(st.integers() | _TEXT)
        return args, field
    field, strategy = draw(st.sampled_from(usable))
    args[field] = draw(strategy)
    return args, field
