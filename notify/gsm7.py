"""Vietnamese text to GSM-7, so an alert fits one 160-character SMS segment.

With even one character outside the GSM 03.38 alphabet a phone network sends UCS-2, 70 characters
per segment, and a Vietnamese alert costs three SMS. Removing the diacritics ("Oxy hòa tan thấp" →
"Oxy hoa tan thap") is how Vietnamese SMS alerts are commonly written; đ/Đ are letters of their own
and map to d/D. Characters of the extension table (`{}[]~^|\\€`) count two.
"""

from __future__ import annotations

import unicodedata
from typing import Final

# GSM 03.38 default alphabet (basic table), and the extension table reached with ESC.
BASIC: Final = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENDED: Final = "\f^{}\\[~]|€"
SEGMENT: Final = 160

_REPLACE: Final = {
    "đ": "d", "Đ": "D", "°": "o", "–": "-", "—": "-", "…": "...", "≤": "<=", "≥": ">=",
    "“": '"', "”": '"', "‘": "'", "’": "'", "×": "x", "·": ".",
}  # fmt: skip


def septets(text: str) -> int:
    """Length in GSM-7 septets (extension characters count two)."""
    return sum(2 if c in EXTENDED else 1 for c in text)


def is_gsm7(text: str) -> bool:
    return all(c in BASIC or c in EXTENDED for c in text)


def to_gsm7(text: str) -> str:
    """Strip diacritics and replace what GSM-7 cannot carry; unknown characters become '?'."""
    out = []
    for ch in text:
        ch = _REPLACE.get(ch, ch)
        if len(ch) == 1 and not ch.isascii():
            # Strip every accent, even those GSM-7 has (ò, é): "hòa" next to "thap" reads as a typo.
            ch = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
            ch = "".join(c if (c in BASIC or c in EXTENDED) else "?" for c in ch)
        out.append(ch)
    return "".join(out)


def fit(text: str, limit: int = SEGMENT) -> str:
    """Cut to `limit` septets, marking the cut with '...'."""
    if septets(text) <= limit:
        return text
    out, used = [], 0
    for ch in text:
        n = 2 if ch in EXTENDED else 1
        if used + n > limit - 3:
            break
        out.append(ch)
        used += n
    return "".join(out).rstrip() + "..."
