"""Throttles count in a sliding window: a slot boundary lets no second batch through, and every refusal names
the seconds until the window allows again."""

import time

import pytest

from chalicelib.services import throttle
from chalicelib.services.throttle import TooManyRequests, count_failure, hit, refuse_when_exhausted

WINDOW = 15 * 60
# A slot boundary near the epoch: small slot numbers keep a mutant that reads every slot since slot 0 quick to fail
# (at today's ~30 million slots it ran until the mutation run's time limit).
SLOT_START = 10 * WINDOW
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


def failures_at(clock, *batches):
    """Count failures in batches of (seconds after SLOT_START, how many)."""
    for at, many in batches:
        clock.now = SLOT_START + at
        for _ in range(many):
            count_failure(SUBJECTS, WINDOW)


def refusal(clock):
    with pytest.raises(TooManyRequests) as refused:
        refuse_when_exhausted(SUBJECTS, WINDOW, "Too many failures.")
    return refused.value


@pytest.mark.parametrize(
    "batches, now, wait",
    [
        # the oldest slot fades out within its minute: 5 x 47/60 + 6 < 10 only 8 s from now
        ([(0, 5), (60, 6)], WINDOW + 5, 8),
        # a whole slot (the rest of it) and then part of the next one
        ([(60, 2), (120, 6), (180, 6)], WINDOW + 75, 66),
        # half a second before the window allows again: still a whole second
        ([(60, 6), (120, 6)], WINDOW + 60 + 19.5, 1),
    ],
)
def test_a_failure_refusal_names_the_first_whole_second_the_window_allows_again(clock, batches, now, wait):
    failures_at(clock, *batches)
    clock.now = SLOT_START + now
    refused = refusal(clock)
    assert refused.retry_after == wait and refused.message == "Too many failures."
    clock.now = SLOT_START + now + wait - 1
    refusal(clock)
    clock.now = SLOT_START + now + wait
    refuse_when_exhausted(SUBJECTS, WINDOW, "Too many failures.")


def test_an_act_refusal_waits_until_the_oldest_act_has_faded_out_entirely(clock):
    clock.now = SLOT_START
    hit("test_act", "someone@example.com", limit=10, window_seconds=WINDOW)
    clock.now = SLOT_START + 60
    for _ in range(9):
        hit("test_act", "someone@example.com", limit=10, window_seconds=WINDOW)
    clock.now = SLOT_START + WINDOW + 30  # the first act half inside the window: 0.5 + 9 + this one > 10
    with pytest.raises(TooManyRequests) as refused:
        hit("test_act", "someone@example.com", limit=10, window_seconds=WINDOW)
    assert refused.value.retry_after in (30, 31)  # one more fits once the first act is wholly outside, 30 s on
    clock.now = SLOT_START + WINDOW + 30 + 29
    with pytest.raises(TooManyRequests):
        hit("test_act", "someone@example.com", limit=10, window_seconds=WINDOW)
    clock.now = SLOT_START + WINDOW + 30 + refused.value.retry_after
    hit("test_act", "someone@example.com", limit=10, window_seconds=WINDOW)


@pytest.mark.parametrize(
    "limit, window, words",
    [
        (10, 15 * 60, "At most 10 of these per 15 minute(s); try again later."),
        (3, 59 * 60, "At most 3 of these per 59 minute(s); try again later."),
        (5, 3600, "At most 5 of these per 1 hour(s); try again later."),
        (20, 24 * 3600, "At most 20 of these per 24 hour(s); try again later."),
    ],
)
def test_an_act_refusal_says_how_many_per_which_window(clock, limit, window, words):
    for _ in range(limit):
        hit("test_act", "someone@example.com", limit=limit, window_seconds=window)
    with pytest.raises(TooManyRequests) as refused:
        hit("test_act", "someone@example.com", limit=limit, window_seconds=window)
    assert refused.value.message == words


def test_a_refused_act_leaves_the_count_as_it_was(clock):
    for _ in range(10):
        hit("test_act", "someone@example.com", limit=10, window_seconds=WINDOW)
    clock.now = SLOT_START + 5 * 60  # a slot of its own, holding nothing yet
    with pytest.raises(TooManyRequests):
        hit("test_act", "someone@example.com", limit=10, window_seconds=WINDOW)
    assert throttle.count("test_act", "someone@example.com", WINDOW) == 10


def test_a_subject_counts_alike_whatever_its_case_and_spaces_and_other_subjects_apart(clock):
    for subject in ("Someone@Example.com", " someone@example.com ", "SOMEONE@EXAMPLE.COM"):
        count_failure([("test_failed", subject, 10)], WINDOW)
    count_failure([("test_failed", "straße@example.com", 10)], WINDOW)
    assert throttle.count("test_failed", "someone@example.com", WINDOW) == 3
    assert throttle.count("test_failed", "strasse@example.com", WINDOW) == 0
    assert throttle.count("test_failed", "Straße@example.com", WINDOW) == 1
    assert throttle.count("other_failed", "someone@example.com", WINDOW) == 0


def test_counters_are_kept_two_windows_and_read_consistently(clock):
    from chalicelib.models import RateLimitModel
    from tests.aws_calls import record_aws_calls

    clock.now = SLOT_START + 30
    hit("test_act", "a@example.com", limit=10, window_seconds=WINDOW)
    count_failure([("test_failed", "b@example.com", 10)], 3600)
    expiries = {bucket.bucket.split(":")[0]: bucket.ttl.timestamp() for bucket in RateLimitModel.scan()}
    assert expiries == {"test_act": SLOT_START + 30 + 2 * WINDOW, "test_failed": SLOT_START + 30 + 2 * 3600}
    with record_aws_calls() as calls:
        refuse_when_exhausted(SUBJECTS, WINDOW, "Too many failures.")
        hit("test_act", "a@example.com", limit=10, window_seconds=WINDOW)
    reads = [params for _tag, _service, operation, params in calls if operation == "BatchGetItem"]
    assert len(reads) == 2 and all(
        request["ConsistentRead"] is True for params in reads for request in params["RequestItems"].values()
    )
