"""Throttles: at most N acts per subject (an account, an address, a target) in a sliding window; the same for
unknown subjects.

A window is counted in 15 slots (one minute of a 15-minute window): the window ending now holds the slots inside it
plus the oldest slot weighted by the share of it still inside. Fixed windows let twice the limit through around a
boundary (the limit at the end of one window, the limit again at the start of the next); two weighted windows
(previous and current) still let ~1.9 times through when the first batch came at the very end. Here the error is
at most one slot's share, read in one batch of 16 small items."""

import math
from datetime import datetime, timedelta, timezone
from typing import Dict, List, Sequence, Tuple

from chalicelib import clock
from chalicelib.errors import RateLimited
from chalicelib.models import RateLimitModel
from chalicelib.security import token_hash

SLOTS = 15  # slots a window is counted in


class TooManyRequests(RateLimited):
    code = "too_many_requests"
    message = "Too many requests of this kind; try again later."
    retry_after = 15 * 60  # only a fallback: every raise in this module names the real wait


def hit(action: str, subject: str, limit: int, window_seconds: int) -> None:
    """Count one act (atomically); TooManyRequests when the window ending now already holds `limit` of them.
    A refused act is not counted, so hammering does not push the end of the wait."""
    now = clock.seconds()
    bucket = RateLimitModel(_bucket_key(action, subject, _slot(now, window_seconds)))
    bucket.update(actions=[RateLimitModel.hits.add(1), RateLimitModel.ttl.set(_expiry(now, window_seconds))])
    counts = _counts([(action, subject)], now, window_seconds)[(action, subject)]
    counts[-1] = int(bucket.hits)  # the atomic answer, whatever the read saw
    if _estimate(counts, now, window_seconds) > limit + 1e-9:
        bucket.update(actions=[RateLimitModel.hits.add(-1)])
        counts[-1] -= 1
        # One more act fits once the window holds at most limit - 1.
        wait = _seconds_until(counts, limit - 1 + 1e-9, now, window_seconds)
        raise TooManyRequests(
            f"At most {limit} of these per {_human(window_seconds)}; try again later.", retry_after=wait
        )


def count(action: str, subject: str, window_seconds: int) -> float:
    """How many acts the window ending now holds (its oldest slot weighted by its share still inside)."""
    now = clock.seconds()
    return _estimate(_counts([(action, subject)], now, window_seconds)[(action, subject)], now, window_seconds)


def refuse_when_exhausted(subjects: Sequence[Tuple[str, str, int]], window_seconds: int, message: str) -> None:
    """For throttles that count only failures: TooManyRequests when any (action, subject, limit) already holds
    `limit` failures in the window ending now; retry_after is when every one of them allows again."""
    now = clock.seconds()
    counts = _counts([(action, subject) for action, subject, _limit in subjects], now, window_seconds)
    waits = [
        _seconds_until(counts[(action, subject)], limit, now, window_seconds)
        for action, subject, limit in subjects
        if _estimate(counts[(action, subject)], now, window_seconds) >= limit
    ]
    if waits:
        raise TooManyRequests(message, retry_after=max(waits))


def count_failure(subjects: Sequence[Tuple[str, str, int]], window_seconds: int) -> None:
    """Count one failure against every (action, subject, limit); never refuses (refuse_when_exhausted does)."""
    now = clock.seconds()
    for action, subject, _limit in subjects:
        RateLimitModel(_bucket_key(action, subject, _slot(now, window_seconds))).update(
            actions=[RateLimitModel.hits.add(1), RateLimitModel.ttl.set(_expiry(now, window_seconds))]
        )


def _slot(now: float, window_seconds: int) -> int:
    return int(now // (window_seconds / SLOTS))


def _counts(keys: Sequence[Tuple[str, str]], now: float, window_seconds: int) -> Dict[Tuple[str, str], List[int]]:
    """For each (action, subject): the counts of the window's SLOTS + 1 slots, oldest first, read in one batch."""
    current = _slot(now, window_seconds)
    slots = range(current - SLOTS, current + 1)
    wanted = {
        _bucket_key(action, subject, slot): ((action, subject), index)
        for action, subject in keys
        for index, slot in enumerate(slots)
    }
    counts = {key: [0] * len(slots) for key in keys}
    for bucket in RateLimitModel.batch_get(list(wanted), consistent_read=True):
        key, index = wanted[bucket.bucket]
        counts[key][index] = int(bucket.hits or 0)
    return counts


def _estimate(counts: List[int], now: float, window_seconds: int) -> float:
    """The oldest slot counts with the share of it still inside the window; the others fully."""
    size = window_seconds / SLOTS
    elapsed = now - _slot(now, window_seconds) * size
    return counts[0] * (1 - elapsed / size) + sum(counts[1:])


def _seconds_until(counts: List[int], room: float, now: float, window_seconds: int) -> int:
    """Seconds from now until the window's estimate drops below `room`, if nothing more is counted: the oldest
    slot fades out linearly, then the next one, and so on."""
    size = window_seconds / SLOTS
    elapsed = now - _slot(now, window_seconds) * size
    waited, counts = 0.0, list(counts)
    while counts:
        oldest, rest = counts[0], sum(counts[1:])
        if rest < room:
            fade = size * (1 - (room - rest) / oldest) if oldest > 0 else 0.0
            waited += max(0.0, fade - elapsed)
            break
        waited += size - elapsed
        counts, elapsed = counts[1:], 0.0
    return max(1, math.ceil(waited + 1e-6))


def _expiry(now: float, window_seconds: int) -> datetime:
    # A slot is read until a window after it ends: two windows from now is enough.
    return datetime.fromtimestamp(now, timezone.utc) + timedelta(seconds=2 * window_seconds)


def _bucket_key(action: str, subject: str, slot: int) -> str:
    return RateLimitModel.bucket_of(action, token_hash(subject.strip().lower()), slot)


def _human(seconds: int) -> str:
    return f"{seconds // 3600} hour(s)" if seconds >= 3600 else f"{seconds // 60} minute(s)"
