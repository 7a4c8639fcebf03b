"""The console approval prompt: one at a time per process, naming the action, target typed back."""

from __future__ import annotations

import builtins
import json
import sys
import threading
from collections.abc import Callable
from typing import TextIO

from fly_tools.catalogue import ENDPOINTS, Catalogue
from fly_tools.guards.decisions import ActionRequest, Approve, Decision, Edit, Reject
from fly_tools.guards.describe import target_phrase
from fly_tools.guards.redact import REDACTED, contains_redacted
from fly_tools.render import identifier, inert_lines, quoted, quoted_identifier

_EXCHANGE = threading.Lock()
"""Held by every console prompt in the process for a whole exchange (question, edit,
type-back), so parallel tool calls never interleave prompts or take each other's answers."""

NO_ANSWER = "no answer (end of input)"
INTERRUPTED = "interrupted at the prompt (Ctrl-C)"
TRIES = 3
"""How many times a question is asked before an answer that is none of its choices rejects."""
_ORDINARY = frozenset({"y", "yes", "n", "no", "e", "edit"})


def write_unless_prompting(out: TextIO, text: str) -> bool:
    """Print ``text`` unless a console prompt is waiting for an answer; returns whether it did.

    Progress lines go through this, so nothing is printed into a question a person is
    reading or typing under.
    """
    if not _EXCHANGE.acquire(blocking=False):
        return False
    try:
        print(text, file=out, flush=True)
    finally:
        _EXCHANGE.release()
    return True


class ConsoleApproval:
    """Ask at the console: shows the action, then approve (``y``), edit (``e``) or reject.

    One prompt at a time per process: every instance shares one lock, held for the whole
    exchange, so the parallel tool calls of an agent are asked about one after another.
    Each question names the tool and its target. Command execution and irreversible
    deletes also need the target typed back (``request.type_back`` when the toolkit gives
    it). End of input, Ctrl-C, or any other answer rejects.

    Args:
        input: reads one answer (default: :func:`input`).
        output: where the prompt is written (default: stdout).
        name: who decides, as audit records name them.
        allow_edit: offer ``[e]dit``; when ``False`` an ``e`` is rejected.
        catalogue: the records that say which tools need the target typed back when a
            request does not say (default: the package's); give a wider toolkit's own.
    """

    def __init__(
        self,
        *,
        input: Callable[[str], str] = builtins.input,
        output: TextIO = sys.stdout,
        name: str = "console",
        allow_edit: bool = True,
        catalogue: Catalogue = ENDPOINTS,
    ) -> None:
        self._input = input
        self.catalogue = catalogue
        self._output = output
        self.name = name
        self.allow_edit = allow_edit

    def __call__(self, request: ActionRequest) -> Decision:
        """Show ``request`` and return the person's decision."""
        try:
            with _EXCHANGE:
                return self._exchange(request)
        except KeyboardInterrupt:
            print(f"\nRejected: {INTERRUPTED}; nothing was sent.", file=self._output, flush=True)
            return Reject(reason=INTERRUPTED, by=self.name)

    def _exchange(self, request: ActionRequest) -> Decision:
        self._show(request)
        letters = ("y", "e", "n") if self.allow_edit else ("y", "n")
        choices = "[y]es / [e]dit / [n]o" if self.allow_edit else "[y]es / [n]o"
        question = f"Approve {_action(request)}? {choices}: "
        answer = ""
        for _ in range(TRIES):
            typed = self._ask(question)
            if typed is None:
                return Reject(reason=NO_ANSWER, by=self.name)
            answer = typed.lower()
            if answer in ("y", "yes"):
                return self._confirm_typed(request, Approve(by=self.name))
            if self.allow_edit and answer in ("e", "edit"):
                return self._edit(request)
            if answer in ("n", "no"):
                return Reject(reason="declined", by=self.name)
            print(f"Please answer {', '.join(letters[:-1])} or {letters[-1]}.", file=self._output)
        reason = f"no answer among {'/'.join(letters)} in {TRIES} tries (last: {quoted(answer)})"
        return Reject(reason=reason, by=self.name)

    def _show(self, request: ActionRequest) -> None:
        agent = f" for {identifier(request.agent_id)}" if request.agent_id else ""
        tool = identifier(request.tool)
        lines = [f"--- Approval needed{agent}: {tool} ({request.risk.label}) ---"]
        if request.edited:
            lines.append("EDITED CALL: this is the call as edited; it needs your approval again.")
        # The description may come from any door: each of its lines is shown inert.
        lines.append(inert_lines(request.description))
        lines += [
            f"  target: {target_phrase(request.target)}",
            f"  args:   {quoted(dict(request.args))}",
        ]
        if request.facts:
            facts = ", ".join(f"{identifier(k)}: {_fact(v)}" for k, v in request.facts.items())
            lines.append(f"  read from Fly just now: {facts}")
        if not request.reversible:
            lines.append("  this cannot be undone")
        print("\n".join(lines), file=self._output, flush=True)

    def _ask(self, prompt: str) -> str | None:
        self._discard_typeahead()
        print(prompt, end="", file=self._output, flush=True)
        try:
            return self._input("").strip()
        except EOFError:
            print("", file=self._output, flush=True)
            return None

    def _discard_typeahead(self) -> None:
        # Lines typed before the question was shown must not answer it.
        if self._input is not builtins.input:
            return
        try:
            import termios

            if sys.stdin.isatty():
                termios.tcflush(sys.stdin.fileno(), termios.TCIFLUSH)
        except (ImportError, OSError, ValueError):
            pass

    def _edit(self, request: ActionRequest) -> Decision:
        text = self._ask("Arguments to change, as a JSON object: ")
        if text is None:
            return Reject(reason=NO_ANSWER, by=self.name)
        try:
            changes = json.loads(text)
        except json.JSONDecodeError:
            changes = None
        if not isinstance(changes, dict):
            return Reject(reason="the edit was not a JSON object", by=self.name)
        args = {**request.args, **changes}
        if contains_redacted(args):
            reason = f"the edit must give every {REDACTED} value again"
            return Reject(reason=reason, by=self.name)
        # No type-back yet: the toolkit describes the edited call again and asks about it
        # (``request.edited``), and that question asks for the edited target.
        print("The edited call will be described again for your approval.", file=self._output)
        return Edit(args=args, by=self.name)

    def _confirm_typed(self, request: ActionRequest, decision: Decision) -> Decision:
        expected = expected_type_back(request, self.catalogue)
        if expected is None:
            return decision
        if not expected:
            reason = "the call names no target to type back, so it cannot be confirmed here"
            return Reject(reason=reason, by=self.name)
        accepted = {expected, *_name_of(request, expected)}
        named = " or ".join(identifier(a) for a in sorted(accepted, key=lambda a: a != expected))
        question = f"This cannot be undone. Type {named} to confirm {_action(request)}: "
        for _ in range(TRIES):
            typed = self._ask(question)
            if typed is None:
                return Reject(reason=NO_ANSWER, by=self.name)
            if typed in accepted:
                return decision
            print(f"That is not {named}.", file=self._output)
        return Reject(reason=f"confirmation did not match {expected!r}", by=self.name)


def _action(request: ActionRequest) -> str:
    return f"{identifier(request.tool)} on {target_phrase(request.target)}"


def _fact(value: object) -> str:
    return quoted_identifier(value, limit=80) if isinstance(value, str) else quoted(value)


def _name_of(request: ActionRequest, expected: str) -> list[str]:
    """The resource's name read from Fly, where a person knows it better than its id.

    Only when what must be typed is the target's own id, and only a plain name: one that
    shows as it is and cannot be mistaken for an ordinary answer.
    """
    target = request.target
    own = target.app if target.kind == "app" else target.id
    name = request.facts.get("name")
    if expected != own or not isinstance(name, str) or name.lower() in _ORDINARY:
        return []
    plain = name.isascii() and name.isprintable() and name.strip() == name and len(name) > 1
    return [name] if plain and identifier(name) == name else []


def expected_type_back(request: ActionRequest, catalogue: Catalogue = ENDPOINTS) -> str | None:
    """What must be typed to approve ``request``; ``None`` when ``y`` is enough.

    ``request.type_back`` when the toolkit set it. A request without one (from a toolkit
    or front door that does not fill it in) still needs the target's name (the app, or the
    machine, volume or secret id) for destructive deletes and for running a command. An
    empty string means there is no name to type, so nothing typed can approve it. The
    rule is ``request.tool``'s record in ``catalogue``.
    """
    if request.type_back is not None:
        return request.type_back
    if not _irreversible_by_rule(request.tool, catalogue):
        return None
    target = request.target
    return (target.app if target.kind == "app" else target.id) or ""


def _irreversible_by_rule(tool: str, catalogue: Catalogue) -> bool:
    # While a request carries no type_back, the record says (destructive deletes, exec).
    endpoint = catalogue.get(tool)
    return endpoint is not None and endpoint.type_back
