"""The one clock: every reading of the current time goes through here, so a test moves all of them at once."""

import time
from datetime import datetime, timezone


def seconds() -> float:
    """Seconds since the epoch: the system clock (what throttle windows count in)."""
    return time.time()


def now() -> datetime:
    """The same reading as an aware datetime in UTC (what items store and expiries compare with)."""
    return datetime.fromtimestamp(seconds(), timezone.utc)
