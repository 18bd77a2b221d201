"""Stable seeds: one integer per (run seed, name…), independent of Python's per-process hash salt.

A node's seed depends only on the run seed, its site and its own slug, so adding sites or nodes never
changes the signals of the ones that were already there.
"""

from __future__ import annotations

import hashlib


def derive_seed(*parts: object) -> int:
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
