"""The inactivity timeout, written the way people say durations: 30m, 1800s, 1h, 1h30m, 90."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Final

from xcc_sessions.errors import UsageError

_UNITS: Final[dict[str, timedelta]] = {
    "ms": timedelta(milliseconds=1),
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
}
_PART: Final = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_NUMBER: Final = re.compile(r"\d+(?:\.\d+)?")


def parse_gap(text: str) -> timedelta:
    """A positive duration: parts like `1h30m` (units ms, s, m, h, d), or bare seconds (`90`).

    Raises `UsageError` for anything else, including zero.
    """
    compact = text.strip().lower().replace(" ", "")
    try:
        if _NUMBER.fullmatch(compact):
            gap = timedelta(seconds=float(compact))
        elif compact and _PART.sub("", compact) == "":
            gap = sum(
                (float(amount) * _UNITS[unit] for amount, unit in _PART.findall(compact)),
                timedelta(),
            )
        else:
            raise UsageError(
                f"invalid gap {text!r}: use a duration such as 30m, 1800s, 1h, 1h30m or 90 "
                "(seconds)"
            )
    except OverflowError:
        raise UsageError(f"invalid gap {text!r}: at most {timedelta.max.days:,} days") from None
    if gap <= timedelta():
        raise UsageError(f"invalid gap {text!r}: the inactivity timeout must be greater than zero")
    return gap
