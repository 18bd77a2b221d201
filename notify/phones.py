"""Vietnamese phone numbers in the form Zalo ZNS and SMS gateways want: 84xxxxxxxxx."""

from __future__ import annotations

import re


class PhoneError(ValueError):
    pass


def to_84(phone: str) -> str:
    """'0912 345 678', '+84912345678', '84912345678' → '84912345678'."""
    digits = re.sub(r"[\s.()-]", "", phone)
    if digits.startswith("+"):
        digits = digits[1:]
    if digits.startswith("0"):
        digits = "84" + digits[1:]
    if not re.fullmatch(r"84[1-9]\d{8}", digits):
        raise PhoneError(f"phone {phone!r} is not a Vietnamese mobile number (84 + 9 digits)")
    return digits
