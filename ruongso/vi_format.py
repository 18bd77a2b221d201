"""Numbers as Vietnamese readers write them (decimal comma, dot for thousands), shared by every text a
person reads: alert texts (analytics), messages (notify) and the demo's screen."""

from __future__ import annotations


def format_number(value: float, lang: str = "vi") -> str:
    """1.8 → '1,8', 1500 → '1.500' in Vietnamese; '1.8', '1,500' in English; at most 2 decimals."""
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    text = f"{value:,.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", "-0,0"):
        text = "0"
    if lang == "vi":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text
