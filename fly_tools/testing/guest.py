"""Inside a started machine: the processes ``ps`` lists and the commands ``exec`` runs.

Exec understands a handful of everyday commands (echo, cat, env, hostname, ls, pwd,
uname, whoami, true, false, sleep) well enough for demos and agent tests; anything
else exits 127 like a missing program.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fly_tools.testing.machines import Machine


@dataclass(frozen=True)
class ExecResult:
    """What a command produced."""

    exit_code: int
    stdout: str = ""
    stderr: str = ""

    def to_wire(self) -> dict[str, Any]:
        """Fly's ``flydv1.ExecResponse``."""
        return {
            "exit_code": self.exit_code,
            "exit_signal": 0,
            "stdout": self.stdout,
            "stderr": self.stderr,
        }


def processes(machine: Machine, *, sort_by: str | None, order: str | None) -> list[dict[str, Any]]:
    """Fly's ``[ProcessStat]`` for a started machine: init, the app, an ssh server."""
    init = machine.config.get("init") or {}
    app_command = init.get("cmd") or init.get("exec") or init.get("entrypoint") or ["/app/start"]
    ports = [s["internal_port"] for s in machine.config.get("services") or []]
    rows = [
        _process(1, "/.fly/init", 1, 5_120_000, []),
        _process(
            313,
            " ".join(app_command),
            4,
            48_300_000,
            [{"proto": "tcp", "address": f"0.0.0.0:{port}"} for port in ports],
        ),
        _process(
            314,
            "/.fly/hallpass",
            0,
            9_400_000,
            [
                {"proto": "tcp", "address": f"[{machine.private_ip}]:22"},
            ],
        ),
    ]
    key = sort_by if sort_by in ("cpu", "rss", "pid") else "pid"
    rows.sort(key=lambda row: row[key], reverse=order == "desc")
    return rows


def _process(
    pid: int, command: str, cpu: int, rss: int, sockets: list[dict[str, str]]
) -> dict[str, Any]:
    return {
        "pid": pid,
        "command": command,
        "directory": "/",
        "cpu": cpu,
        "rss": rss,
        "rtime": 1000 * pid,
        "stime": 200 * pid,
        "listen_sockets": sockets,
    }


def parse_command(command: list[str] | None, cmd: str | None) -> list[str]:
    """The argv to run: ``command`` (the spec's list) or ``cmd`` (fly-go's string)."""
    if command:
        return list(command)
    return shlex.split(cmd or "")


def run(machine: Machine, argv: list[str], stdin: str = "") -> ExecResult:
    """Run ``argv`` in ``machine``."""
    program, args = argv[0], argv[1:]
    if program in ("sh", "bash") and args[:1] == ["-c"] and len(args) > 1:
        return run(machine, shlex.split(args[1]), stdin)
    command = _COMMANDS.get(program.rsplit("/", 1)[-1])
    if command is None:
        return ExecResult(127, stderr=f"exec: {program!r}: executable file not found in $PATH\n")
    return command(machine, args, stdin)


def _env(machine: Machine) -> dict[str, str]:
    # Secret values are deliberately absent: the fake never reveals them, even here.
    return {
        "FLY_APP_NAME": machine.app,
        "FLY_MACHINE_ID": machine.id,
        "FLY_REGION": machine.region,
        "FLY_PRIVATE_IP": machine.private_ip,
        "FLY_IMAGE_REF": machine.config.get("image", ""),
        **(machine.config.get("env") or {}),
    }


def _ls(machine: Machine, args: list[str], _stdin: str) -> ExecResult:
    paths = [a for a in args if not a.startswith("-")] or ["/"]
    mounts = {m["path"]: m for m in machine.config.get("mounts") or []}
    lines = []
    for path in paths:
        if path in mounts:
            lines.append("lost+found")
        elif path == "/":
            lines.append(" ".join(sorted(["app", "bin", "etc", "usr", "var", *mounts])))
        else:
            return ExecResult(2, stderr=f"ls: cannot access '{path}': No such file or directory\n")
    return ExecResult(0, stdout="\n".join(lines) + "\n")


def _text(fn: Callable[[Machine, list[str], str], str]) -> Callable[..., ExecResult]:
    return lambda machine, args, stdin: ExecResult(0, stdout=fn(machine, args, stdin))


_COMMANDS: dict[str, Callable[[Machine, list[str], str], ExecResult]] = {
    "echo": _text(lambda m, args, s: " ".join(args) + "\n"),
    "cat": _text(lambda m, args, stdin: stdin),
    "env": _text(lambda m, a, s: "".join(f"{k}={v}\n" for k, v in _env(m).items())),
    "printenv": _text(lambda m, args, s: "".join(_env(m).get(n, "") + "\n" for n in args)),
    "hostname": _text(lambda m, a, s: m.id + "\n"),
    "pwd": _text(lambda m, a, s: "/\n"),
    "whoami": _text(lambda m, a, s: "root\n"),
    "uname": _text(lambda m, a, s: f"Linux {m.id} 6.1.0-fly #1 SMP x86_64 GNU/Linux\n"),
    "true": _text(lambda m, a, s: ""),
    "sleep": _text(lambda m, a, s: ""),
    "false": lambda m, a, s: ExecResult(1),
    "ls": _ls,
}
