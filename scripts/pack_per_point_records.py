"""Convert recorded per-point flags (lists of 0/1, one per line) to the bit-packed form.

Usage: .venv/bin/python scripts/pack_per_point_records.py [PATH ...]   (default: every *.json under data/)

Every ``per_point`` mapping in a record (``report.per_point`` of a study record, ``per_point``
of a check) whose values are lists of 0/1 becomes ``lpgeom.utils.pack_flags`` of them; nothing
else in the file changes: the file is rewritten with the indent, ASCII escaping and final
newline it had, and a file whose unchanged content would not serialise back to the very same
bytes is refused rather than reformatted. Idempotent: packed records are left as they are.
tests/utils/test_flags.py checks the conversion commit bit for bit against the files before it.
"""
from __future__ import annotations

import json
import pathlib
import sys
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lpgeom.utils import atomic_write_text, pack_flags  # noqa: E402
from lpgeom.utils.flags import is_packed  # noqa: E402

# the subject line of the commit that converted the repository's records (the test finds it by this)
COMMIT_SUBJECT = "Per-point records bit-packed"


def _formats():
    for indent in (1, 2, None, 4):
        for ascii_only in (True, False):
            for newline in ("\n", ""):
                yield indent, ascii_only, newline


def detect_format(text: str) -> tuple[int | None, bool, str]:
    """(indent, ensure_ascii, final newline) that reproduce ``text`` byte for byte from its parsed JSON."""
    obj = json.loads(text)
    for indent, ascii_only, newline in _formats():
        if json.dumps(obj, indent=indent, ensure_ascii=ascii_only) + newline == text:
            return indent, ascii_only, newline
    raise ValueError("the file does not serialise back to the same bytes in any JSON layout this script writes: "
                     "refusing to rewrite it")


def pack_all(obj: Any) -> int:
    """Pack every list-valued ``per_point`` mapping inside ``obj`` in place; returns how many were packed."""
    count = 0
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key == "per_point" and isinstance(value, dict) and value and not is_packed(value):
                obj[key] = pack_flags(value)
                count += 1
            else:
                count += pack_all(value)
    elif isinstance(obj, list):
        count = sum(pack_all(v) for v in obj)
    return count


def convert_text(text: str) -> str | None:
    """The record ``text`` with its per-point flags packed, in its own layout; None when nothing to pack."""
    indent, ascii_only, newline = detect_format(text)
    obj = json.loads(text)
    if not pack_all(obj):
        return None
    return json.dumps(obj, indent=indent, ensure_ascii=ascii_only) + newline


def main(argv: list[str]) -> int:
    paths = [pathlib.Path(p) for p in argv] or sorted((ROOT / "data").rglob("*.json"))
    before = after = converted = 0
    for path in paths:
        text = path.read_text()
        new = convert_text(text)
        if new is None:
            continue
        atomic_write_text(path, new)
        before, after, converted = before + len(text), after + len(new), converted + 1
    print(f"packed the per-point flags of {converted} records: {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
