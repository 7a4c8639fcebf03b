"""A call made ready to send: the bound app filled in, the arguments validated, the request asked about."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from fly_tools.catalogue import Endpoint
from fly_tools.guards.decisions import ActionRequest
from fly_tools.models.args import FlyArgs
from fly_tools.redaction import REDACTED, contains_redacted, secret_values_in


@dataclass(frozen=True)
class PreparedCall:
    """A call validated, guarded and described, not sent (for front doors that ask first).

    The one owner of what makes a call ready: every door fills in the bound app with
    :meth:`arguments` and validates with :meth:`validate` (the pipeline for each call, the
    middleware's description, a front door that asks first); the digest a decision is
    bound to and the machine version a receipt pins are read off the request here.

    Attributes:
        tool: the tool name.
        gated: whether it needs a human decision.
        refusal: why it would be refused (bad arguments, scope, policy, app binding).
        request: what a person is asked, when it is gated and not refused.
        args: the validated arguments, when it is gated and not refused.
        reads: the reads made to describe it, for its audit record.
    """

    tool: str
    gated: bool
    refusal: str | None = None
    request: ActionRequest | None = None
    args: FlyArgs | None = field(default=None, repr=False)
    reads: tuple[str, ...] = ()

    @property
    def digest(self) -> str:
        """The keyed digest of the request a person is asked about; empty without one."""
        return self.request.digest if self.request is not None else ""

    @property
    def version(self) -> str | None:
        """The machine version the description read, which a receipt pins; ``None`` if none."""
        return self.request.version if self.request is not None else None

    @staticmethod
    def arguments(endpoint: Endpoint, raw: Mapping[str, Any], app: str | None) -> dict[str, Any]:
        """A copy of ``raw`` with the bound ``app`` filled in where the endpoint takes an
        app and the caller named none.

        A caller's other app stays as given (:meth:`names_other_app`), so the guard
        refuses it rather than quietly correcting it.
        """
        data = dict(raw)
        if app is not None and "app_name" in endpoint.args_model.model_fields:
            data.setdefault("app_name", app)
        return data

    @staticmethod
    def names_other_app(raw: Mapping[str, Any], app: str | None) -> bool:
        """Whether ``raw`` names an app other than the bound ``app``."""
        return app is not None and raw.get("app_name", app) != app

    @staticmethod
    def validate(endpoint: Endpoint, raw: Mapping[str, Any], app: str | None) -> FlyArgs:
        """``raw`` validated with the endpoint's model, the bound ``app`` filled in.

        Raises:
            ValidationError: the arguments are invalid, or a secret value holds the
                redaction placeholder.
        """
        data = PreparedCall.arguments(endpoint, raw, app)
        args = endpoint.args_model.model_validate(data)
        if contains_redacted(data):
            _refuse_placeholder(endpoint, args)
        return args


def _refuse_placeholder(endpoint: Endpoint, args: FlyArgs) -> None:
    """A secret value that holds the redaction placeholder is refused, never sent.

    Arguments copied from an approval request, a trace or an audit record read
    ``"[redacted]"`` where a secret was; sent, Fly would store the placeholder as the
    secret (or the key, or the stdin) and the real value would be lost.
    """
    fields = [
        name
        for name, value in args.model_dump().items()
        if any(REDACTED in secret for secret in secret_values_in(endpoint, {name: value}))
    ]
    if not fields:
        return
    raise ValidationError.from_exception_data(
        endpoint.args_model.__name__,
        [
            InitErrorDetails(
                type=PydanticCustomError(
                    "redacted_placeholder",
                    f"holds the placeholder {REDACTED!r} where a secret value goes; "
                    "give the real value (a redacted copy of a call cannot be sent again)",
                ),
                loc=(name,),
                input=REDACTED,
            )
            for name in fields
        ],
    )
