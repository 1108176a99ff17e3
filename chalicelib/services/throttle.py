"""Throttles: at most N acts per subject (an account, an address) in a fixed window; the same for unknown subjects."""
import time
from datetime import datetime, timedelta, timezone
from typing import Sequence, Tuple

from chalicelib.errors import DomainError
from chalicelib.models import RateLimitModel
from chalicelib.security import token_hash


class TooManyRequests(DomainError):
    status, code = 429, "too_many_requests"
    message = "Too many requests of this kind; try again later."
    retry_after = 15 * 60  # the raiser names the window's real end


def hit(action: str, subject: str, limit: int, window_seconds: int) -> None:
    """Count one act (atomically); TooManyRequests when the window already holds `limit` of them."""
    bucket = RateLimitModel(_bucket_key(action, subject, window_seconds))
    bucket.update(actions=[
        RateLimitModel.hits.add(1),
        RateLimitModel.ttl.set(datetime.now(timezone.utc) + timedelta(seconds=2 * window_seconds)),
    ])
    if bucket.hits > limit:
        raise TooManyRequests(f"At most {limit} of these per {_human(window_seconds)}; try again later.")


def count(action: str, subject: str, window_seconds: int) -> int:
    """How many acts the current window holds already (for throttles that count only failures)."""
    from pynamodb.exceptions import DoesNotExist

    try:
        return RateLimitModel.get(_bucket_key(action, subject, window_seconds), consistent_read=True).hits
    except DoesNotExist:
        return 0


def refuse_when_exhausted(subjects: Sequence[Tuple[str, str, int]], window_seconds: int, message: str) -> None:
    """For throttles that count only failures: TooManyRequests when any (action, subject, limit) already holds
    `limit` failures in the current window."""
    for action, subject, limit in subjects:
        if count(action, subject, window_seconds) >= limit:
            raise TooManyRequests(message)


def count_failure(subjects: Sequence[Tuple[str, str, int]], window_seconds: int) -> None:
    """Count one failure against every (action, subject, limit)."""
    for action, subject, limit in subjects:
        hit(action, subject, limit=limit, window_seconds=window_seconds)


def _bucket_key(action: str, subject: str, window_seconds: int) -> str:
    return f"{action}:{token_hash(subject.strip().lower())}:{int(time.time() // window_seconds)}"


def _human(seconds: int) -> str:
    return f"{seconds // 3600} hour(s)" if seconds >= 3600 else f"{seconds // 60} minute(s)"
