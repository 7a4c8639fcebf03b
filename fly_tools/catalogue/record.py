"""The shape of a catalogue record (:class:`Endpoint`) and of the catalogue itself."""

from __future__ import annotations

import importlib
import re
import threading
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from fly_tools.catalogue.access import Need
from fly_tools.models.base import FlyArgs
from fly_tools.risk import GROUP_OF, Group, RiskTier, Scope

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
RateClass = Literal["standard", "get_machine", "app_delete"]
TargetKind = Literal[
    "org", "app", "machine", "volume", "secret", "certificate", "ip", "secretkey", "platform"
]
"""What a call acts on; the identifier naming it is :data:`TARGET_ID_FIELD`'s."""
TARGET_ID_FIELD: Mapping[TargetKind, str] = {
    "machine": "machine_id",
    "volume": "volume_id",
    "secret": "secret_name",
    "secretkey": "secret_name",
    "certificate": "hostname",
    "ip": "ip",
    "org": "org_slug",
}
"""The argument that names a target of each kind (an app is named by ``app_name``)."""
ResultKind = Literal[
    "action",
    "apps",
    "app",
    "created_app",
    "machines",
    "machine",
    "exec",
    "wait",
    "processes",
    "events",
    "versions",
    "lease",
    "volumes",
    "volume",
    "extend",
    "secrets",
    "secret_change",
    "oidc",
    "item",
    "items",
]
"""How a result is worded for the model; each kind has one renderer in ``tools/content.py``.

``item`` and ``items`` are generic: one object, or a list of them, shown through the
record's :attr:`Endpoint.noun`, :attr:`Endpoint.shows` and :attr:`Endpoint.rows_at`."""
FlowKind = Literal[
    "single", "update_machine", "wait", "create_app", "get_lease", "own_token", "text_token"
]
"""The requests behind one call; each kind has one flow in ``client/flows.py``."""

_PATH_PARAM = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Limit:
    """A token-bucket rate limit.

    Attributes:
        rate: tokens added per second (sustained requests per second).
        burst: bucket size (requests allowed back to back after a quiet spell).
    """

    rate: float
    burst: int

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("a Limit needs rate > 0 and burst >= 1")


FLY_LIMITS: Mapping[str, Limit] = {
    "standard": Limit(rate=1.0, burst=3),
    "get_machine": Limit(rate=5.0, burst=10),
    "app_delete": Limit(rate=100 / 60, burst=100),
}
"""Fly's documented per-action limits, by :attr:`Endpoint.rate_class`: 1/s with bursts
of 3; get-machine 5/s with bursts of 10; app deletions 100 per minute. The client paces
to them and the fake enforces them."""


@dataclass(frozen=True)
class Phrase:
    """How a call reads to a person: asked before it runs, and told after in the audit trail.

    Both hold ``{target}`` where the target goes (``machine 3d8d9015b23489 in app web``),
    so the words are written once, by a person, on the record: never parsed out of the
    tool name.

    Attributes:
        ask: the imperative, lower case: ``stop {target}``.
        done: the past tense, lower case: ``stopped {target}``.
        then: what the model is told to do next once Fly accepted the call (a sentence,
            or empty): ``Call fly_wait_machine with state='stopped' to confirm.``
    """

    ask: str
    done: str
    then: str = ""

    def __post_init__(self) -> None:
        for text in (self.ask, self.done):
            if text.count(TARGET) != 1 or text != text.strip() or not text[:1].islower():
                raise ValueError(
                    f"a phrase is lower case and names {TARGET} once, e.g. 'stop {TARGET}'; "
                    f"got {text!r}"
                )

    def says(self, target: str, *, past: bool = False) -> str:
        """The phrase with ``target`` in place (taken as it is: braces in it stay text)."""
        return (self.done if past else self.ask).replace(TARGET, target)


TARGET = "{target}"
"""Where a :class:`Phrase` puts the target."""


@dataclass(frozen=True, kw_only=True)
class Endpoint:
    """One Fly Machines API endpoint, as a tool sees it.

    Attributes:
        name: the tool name (``fly_list_apps``); stable, agents depend on it.
        group: capability group, one of :data:`fly_tools.risk.GROUPS`; whether a toolkit
            offers the tool by default is the group's (:attr:`default`).
        operation_id: the ``operationId`` in Fly's OpenAPI spec.
        method: HTTP method.
        path: path template as in the spec (without ``/v1``).
        access: what it asks of a Fly token (resource and action bits), which Fly
            checks against the token's caveats; ``None`` only in test records.
        args_model: pydantic model of the arguments.
        risk: worst plausible outcome of one call.
        scopes: token scopes that may call it.
        rate_class: which of Fly's per-action rate limits applies.
        idempotent: whether repeating the call has no further effect (safe to retry).
        description: one line for the model: what it does and when to use it.
        consequence: what the call costs, said to whoever approves it (gated tiers).
        result: how the answer is worded for the model (a :data:`ResultKind`);
            ``"action"`` says what was done to the machine or app.
        flow: the requests behind one call (a :data:`FlowKind`); most are one request.
        state_read: the cheap read (a tool name) whose answer makes the approval
            question better, e.g. the machine a stop acts on; it is called with this
            call's own path identifiers. ``None`` for none.
        type_back: whether approving at a console means typing the target's name back.
        guest_output: whether the answer carries text another party controls (a
            guest's command output, its event messages): MCP's ``openWorldHint``.
        untrusted: the fields of the answer written by someone other than the user's own
            toolkit (a guest's output, metadata, env values, image labels ...), as dotted
            paths into the answer (lists are walked; ``""`` is the whole answer) mapped to
            what they are, in plain words. Text read from them is fenced as data, and a
            thread that read it needs a human for its next changes
            (:mod:`fly_tools.untrusted`).
        advice: what to do next after an error status, where this endpoint's differs
            from the general advice (status code -> sentence).
        tier_reason: one sentence: why the call sits in its risk tier.
        target_kind: what the call acts on, where the path alone does not say (a
            secret key is named by ``secret_name`` like a secret); ``None`` derives it.
        noun: what one item of the answer is called (``certificate``), for ``item``
            and ``items`` results.
        shows: the answer's keys worth showing the model (dotted for nested keys), for
            ``item`` and ``items`` results.
        rows_at: the key holding the list in an ``items`` answer; ``None`` when the
            answer is the list itself.
        hidden: keys of the answer whose values never leave the tool (a minted token, a
            secret's value): they are replaced in the content and the artifact.
        phrase: how the call reads to a person (:class:`Phrase`); ``None`` reads as
            ``call fly_x on <target>``, never as words guessed from the name.
    """

    name: str
    group: Group
    operation_id: str
    method: HttpMethod
    path: str
    args_model: type[FlyArgs]
    risk: RiskTier
    scopes: frozenset[Scope]
    idempotent: bool
    description: str
    rate_class: RateClass = "standard"
    consequence: str = ""
    result: ResultKind = "action"
    flow: FlowKind = "single"
    state_read: str | None = None
    type_back: bool = False
    guest_output: bool = False
    untrusted: Mapping[str, str] = field(default_factory=dict, hash=False)
    advice: Mapping[int, str] = field(default_factory=dict, hash=False)
    tier_reason: str = ""
    target_kind: TargetKind | None = None
    noun: str = ""
    shows: tuple[str, ...] = ()
    rows_at: str | None = None
    hidden: frozenset[str] = frozenset()
    phrase: Phrase | None = None
    access: Need | None = None
    path_params: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        if self.group not in GROUP_OF:
            raise ValueError(
                f"{self.name}: unknown group {self.group!r}; see fly_tools.risk.GROUPS"
            )
        object.__setattr__(self, "path_params", frozenset(_PATH_PARAM.findall(self.path)))
        object.__setattr__(self, "advice", dict(self.advice))  # a copy, not the caller's
        object.__setattr__(self, "untrusted", dict(self.untrusted))

    @property
    def target(self) -> TargetKind:
        """The most specific resource the call acts on."""
        if self.target_kind is not None:
            return self.target_kind
        for param, kind in (
            ("hostname", "certificate"),
            ("ip", "ip"),
            ("secret_name", "secret"),
            ("volume_id", "volume"),
            ("machine_id", "machine"),
            ("app_name", "app"),
        ):
            if param in self.path_params:
                return kind  # type: ignore[return-value]
        return "app" if "app_name" in self.args_model.model_fields else "org"

    @property
    def default(self) -> bool:
        """Whether a toolkit that names no groups offers this tool: its group's
        :attr:`~fly_tools.risk.GroupRecord.default`. The others are opted into with
        ``groups=``, ``include=`` or a policy."""
        return GROUP_OF[self.group].default

    @property
    def read_only(self) -> bool:
        """True for the READ tier."""
        return self.risk is RiskTier.READ

    def render_path(self, values: Mapping[str, str]) -> str:
        """The concrete path for validated path-parameter values."""
        return _PATH_PARAM.sub(lambda m: values[m.group(1)], self.path)


class Catalogue(Mapping[str, Endpoint]):
    """An ordered, immutable, name-indexed collection of :class:`Endpoint` records."""

    def __init__(self, endpoints: tuple[Endpoint, ...]) -> None:
        self._by_name = _index(endpoints)
        self._order = endpoints

    def _ensure(self, groups: Collection[str] | None = None) -> None:
        """Have the records of ``groups`` (of every group when ``None``) at hand before
        they are read; a catalogue given whole always has them."""

    def __getitem__(self, name: str) -> Endpoint:
        found = self._by_name.get(name)
        if found is None:
            self._ensure()  # the name may be in a part not loaded yet
            found = self._by_name.get(name)
        if found is None:
            raise KeyError(f"no Fly endpoint named {name!r}")
        return found

    def __iter__(self) -> Iterator[str]:
        self._ensure()
        return iter(e.name for e in self._order)

    def __len__(self) -> int:
        self._ensure()
        return len(self._order)

    def __repr__(self) -> str:
        return f"Catalogue({len(self)} endpoints)"

    @property
    def records(self) -> tuple[Endpoint, ...]:
        """The endpoints in catalogue order."""
        self._ensure()
        return self._order

    def in_group(self, group: Group) -> tuple[Endpoint, ...]:
        """Endpoints of one group, in order."""
        return self.in_groups((group,))

    def in_groups(self, groups: Collection[str]) -> tuple[Endpoint, ...]:
        """Endpoints of any of ``groups``, in catalogue order."""
        self._ensure(groups)
        return tuple(e for e in self._order if e.group in groups)


def _index(endpoints: tuple[Endpoint, ...]) -> dict[str, Endpoint]:
    by_name = {e.name: e for e in endpoints}
    if len(by_name) != len(endpoints):
        raise ValueError("duplicate endpoint names in the catalogue")
    return by_name


class LazyCatalogue(Catalogue):
    """A catalogue that imports its opt-in areas when first needed: the package's own.

    The default records are given at once. Each area is a module of ``package`` whose
    ``RECORDS`` hold the groups the table ``areas`` names for it (the table is in
    catalogue order); it is imported when something asks for one of those groups, for a name not
    loaded yet (a typo too: a suggestion must weigh every name), or for the whole
    catalogue (iterating it, its length, :attr:`records`). A toolkit of the default
    groups so never pays for the other areas' argument models.

    Loading holds a lock, and a part is published whole, so threads sharing the
    catalogue never see an area half loaded.
    """

    def __init__(
        self, eager: tuple[Endpoint, ...], *, package: str, areas: Mapping[str, frozenset[Group]]
    ) -> None:
        super().__init__(eager)
        self._eager = eager
        self._package = package
        self._areas = dict(areas)
        self._loaded: Mapping[str, tuple[Endpoint, ...]] = {}
        self._lock = threading.RLock()

    def _ensure(self, groups: Collection[str] | None = None) -> None:
        wanted = [
            area
            for area, held in self._areas.items()
            if area not in self._loaded and (groups is None or not held.isdisjoint(groups))
        ]
        if wanted:
            self._load(wanted)

    def _load(self, wanted: list[str]) -> None:
        with self._lock:
            loaded = dict(self._loaded)
            for area in wanted:
                if area not in loaded:
                    module = importlib.import_module(f"{self._package}.{area}")
                    loaded[area] = module.RECORDS
            order = self._eager + tuple(e for a in self._areas if a in loaded for e in loaded[a])
            # The index and order first: a reader that sees the area loaded finds its records.
            self._by_name, self._order = _index(order), order
            self._loaded = loaded

    def __copy__(self) -> LazyCatalogue:
        return self  # immutable: one catalogue, one lock

    def __deepcopy__(self, memo: dict[int, Any]) -> LazyCatalogue:
        return self

    def __reduce__(self) -> tuple[type[Catalogue], tuple[tuple[Endpoint, ...]]]:
        # A lock does not pickle: what travels is the records, as a plain catalogue.
        return Catalogue, (self.records,)
