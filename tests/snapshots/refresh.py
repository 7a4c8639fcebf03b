"""Rewrites the tool schema snapshots from the code: ``python -m tests.snapshots.refresh``."""

from __future__ import annotations

from tests.snapshots.schemas import FOLDER, current, write


def main() -> int:
    written, gone = write(current())
    print(f"{len(written)} snapshot(s) written, {len(gone)} removed, in {FOLDER}")
    for name in written:
        print(f"  wrote {name}.json")
    for name in gone:
        print(f"  removed {name}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
