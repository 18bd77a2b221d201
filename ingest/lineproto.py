"""Line-protocol pieces ingest writes besides `reading` (which `contract.wire.to_line` owns)."""

from __future__ import annotations

_CONTROL = {c: "?" for c in range(32)} | {ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"}


def field_string(value: str) -> str:
    """A quoted string field value. Line protocol escapes only `\\` and `"`; a raw newline would end
    the line, so control characters are spelled out instead."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').translate(_CONTROL) + '"'
