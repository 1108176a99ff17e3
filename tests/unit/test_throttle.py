"""Throttles count in a sliding window: a slot boundary lets no second batch through, and every refusal names
the seconds until the window allows again."""
import time

import pytest

from chalicelib.services import throttle
from chalicelib.services.throttle import TooManyRequests, count_failure, hit, refuse_when_exhausted

WINDOW = 15 * 60
SLOT_START = 1_800_000_000 - 1_800_000_000 % WINDOW  # a slot boundary
SUBJECTS = [("test_failed", "someone@example.com", 10)]


@pytest.fixture
def clock(aws, monkeypatch):
    """A settable clock: every reader of time.time() sees `clock.now`."""
    class Clock:
        now = float(SLOT_START)

    monkeypatch.setattr(time, "time", lambda: Clock.now)
    return Clock


def test_ten_acts_at_the_end_of_one_slot_leave_no_room_at_the_start_of_the_next(clock):
    clock.now = SLOT_START + WINDOW - 5
    for _ in range(10):
        hit("test_act", "someone@example.com", limit=10, window_seconds=WINDOW)
    clock.now = SLOT_START + WINDOW + 5
    with pytest.raises(TooManyRequests):
        hit("test_act", "someone@example.com", limit=10, window_seconds=WINDOW)


def test_ten_failures_at_the_end_of_one_slot_still_refuse_at_the_start_of_the_next(clock):
    clock.now = SLOT_START + WINDOW - 5
    for _ in range(10):
        count_failure(SUBJECTS, WINDOW)
    clock.now = SLOT_START + WINDOW + 5
    with pytest.raises(TooManyRequests):
        refuse_when_exhausted(SUBJECTS, WINDOW, "Too many failures.")


def test_a_failure_refusal_names_the_seconds_until_the_window_allows_again(clock):
    clock.now = SLOT_START + 840
    for _ in range(10):
        count_failure(SUBJECTS, WINDOW)
    with pytest.raises(TooManyRequests) as refused:
        refuse_when_exhausted(SUBJECTS, WINDOW, "Too many failures.")
    wait = refused.value.retry_after
    assert wait == 901  # the ten leave the window 900 s after they came
    clock.now = SLOT_START + 840 + wait - 2
    with pytest.raises(TooManyRequests):
        refuse_when_exhausted(SUBJECTS, WINDOW, "Too many failures.")
    clock.now = SLOT_START + 840 + wait
    refuse_when_exhausted(SUBJECTS, WINDOW, "Too many failures.")


def test_an_act_refusal_names_the_seconds_until_one_more_fits_and_refused_acts_do_not_count(clock):
    for _ in range(10):
        hit("test_act", "someone@example.com", limit=10, window_seconds=WINDOW)
    for _ in range(5):  # hammering while refused neither counts nor moves the end
        with pytest.raises(TooManyRequests) as refused:
            hit("test_act", "someone@example.com", limit=10, window_seconds=WINDOW)
    wait = refused.value.retry_after
    assert 906 <= wait <= 907  # the ten leave the window after 900 s; one of them is gone 6 s later
    clock.now = SLOT_START + wait - 2
    with pytest.raises(TooManyRequests):
        hit("test_act", "someone@example.com", limit=10, window_seconds=WINDOW)
    clock.now = SLOT_START + wait
    hit("test_act", "someone@example.com", limit=10, window_seconds=WINDOW)


def test_the_count_weights_the_previous_slot_by_its_share_inside_the_window(clock):
    for _ in range(8):
        count_failure(SUBJECTS, WINDOW)
    clock.now = SLOT_START + WINDOW + 15  # a quarter into the window's slot after the eight's one
    count_failure(SUBJECTS, WINDOW)
    assert throttle.count("test_failed", "someone@example.com", WINDOW) == pytest.approx(8 * 0.75 + 1)
