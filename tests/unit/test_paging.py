"""Cursor paging (moto tier; the exact-boundary case also runs on DynamoDB Local)."""

import base64
import json

import pytest

from chalicelib.api.statuses import status_of
from chalicelib.paging import InvalidCursor, InvalidLimit, binding, decode_cursor, encode_cursor, parse_limit
from chalicelib.services.tenants.users import page_users_of_org
from tests.helpers import make_user

BOUND = binding("usr_a", "users", org_id="root")
KEY = {"org_id": {"S": "root"}, "email": {"S": "a@example.com"}, "user_id": {"S": "usr_1"}}


def unpadded_b64decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_a_cursor_round_trips_a_query_index_and_start_key():
    assert decode_cursor(encode_cursor(KEY, 2, bound_to=BOUND), bound_to=BOUND) == (2, KEY)
    assert decode_cursor(encode_cursor(None, 1, bound_to=BOUND), bound_to=BOUND) == (1, None)
    assert decode_cursor(None, bound_to=BOUND) == (0, None)


def test_a_cursor_reveals_nothing_of_its_start_key():
    cursor = encode_cursor(KEY, 0, bound_to=BOUND)
    raw = unpadded_b64decode(cursor)
    for secret in (b"root", b"a@example.com", b"usr_1", b"email", b"org_id"):
        assert secret not in raw and secret.decode() not in cursor
    with pytest.raises(ValueError):
        json.loads(raw)


@pytest.mark.parametrize(
    "other",
    [
        binding("usr_b", "users", org_id="root"),
        binding("usr_a", "users", org_id="x"),
        binding("usr_a", "sites", org_id="root"),
        binding("usr_a", "users"),
    ],
)
def test_a_cursor_is_refused_under_another_reader_list_or_filter(other):
    cursor = encode_cursor(KEY, 0, bound_to=BOUND)
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, bound_to=other)


def test_unset_filters_bind_like_absent_ones():
    assert binding("usr_a", "users", org_id=None, name="") == binding("usr_a", "users")


@pytest.mark.parametrize("position", [0, 5, 11, 12, 20, -17, -1])
def test_a_cursor_with_any_byte_changed_is_refused(position):
    raw = bytearray(unpadded_b64decode(encode_cursor(KEY, 0, bound_to=BOUND)))
    raw[position] ^= 0x01
    with pytest.raises(InvalidCursor):
        decode_cursor(base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("="), bound_to=BOUND)


def old_style(key, index=0):
    """A cursor as it was once handed out: the start key as readable, editable base64 JSON."""
    return base64.urlsafe_b64encode(json.dumps({"q": index, "k": key}).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "%%%",
        "bm90IGpzb24",
        old_style({"a": "plain"}),
        "e30" * 1000,
        old_style(None, -1),
        old_style(KEY),
        old_style(None, 0),
        "A" * 60,
        "A" * 40,
    ],
)
def test_a_cursor_that_is_not_ours_is_refused(cursor):
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, bound_to=BOUND)


@pytest.mark.parametrize("raw, expected", [(None, 50), ("", 50), ("1", 1), ("500", 500)])
def test_limit_defaults_to_50_and_allows_up_to_500(raw, expected):
    assert parse_limit(raw) == expected


@pytest.mark.parametrize("raw", ["0", "501", "-1", "ten", "1.5"])
def test_a_limit_out_of_range_is_refused(raw):
    with pytest.raises(InvalidLimit):
        parse_limit(raw)


def test_pages_visit_every_item_once_in_order(aws):
    emails = sorted(f"user{i:02d}@example.com" for i in range(7))
    for email in emails:
        make_user(email=email)
    seen, cursor, pages = [], None, 0
    while True:
        items, cursor = page_users_of_org("root", 3, cursor)
        seen += [user.email for user in items]
        pages += 1
        if cursor is None:
            break
    assert seen == emails and pages == 3


def test_a_chain_of_queries_pages_through_all_of_them_without_empty_pages(aws):
    import functools

    from chalicelib.models import UserModel
    from chalicelib.paging import page_chain
    from tests.helpers import make_org

    make_org("org_b")
    make_org("org_c")
    emails = {"root": ["r1@example.com", "r2@example.com"], "org_b": [], "org_c": ["c1@example.com"]}
    for org_id, addresses in emails.items():
        for email in addresses:
            make_user(email=email, org_id=org_id)
    queries = [functools.partial(UserModel.org_index.query, org_id) for org_id in ("root", "org_b", "org_c")]
    for limit, expected_pages in [(1, 3), (2, 2), (3, 1), (50, 1)]:
        seen, cursor, pages = [], None, 0
        while True:
            items, cursor = page_chain(queries, limit, cursor, bound_to=BOUND)
            assert items
            seen += [user.email for user in items]
            pages += 1
            if cursor is None:
                break
        assert seen == ["r1@example.com", "r2@example.com", "c1@example.com"] and pages == expected_pages, limit


def test_a_filtered_page_fills_up_and_its_cursor_holds_only_the_key_of_an_item_shown(aws):
    import functools

    from chalicelib.models import UserModel
    from chalicelib.paging import page

    emails = [f"user{i:02d}@example.com" for i in range(12)]
    for email in emails:
        make_user(email=email)
    shown = emails[::3]
    query = functools.partial(UserModel.org_index.query, "root")
    seen, cursor = [], None
    while True:
        items, cursor = page(
            query,
            2,
            cursor,
            bound_to=BOUND,
            select=lambda users: [(user, user) for user in users if user.email in shown],
        )
        seen += [user.email for user in items]
        if cursor is None:
            break
        assert len(items) == 2 and decode_cursor(cursor, bound_to=BOUND)[1]["email"]["S"] in shown
    assert seen == shown


@pytest.mark.parametrize(
    "value",
    [
        {"L": [{"S": "x"}]},
        {"M": {"a": {"S": "x"}}},
        {"B": "eA=="},
        {"BOOL": True},
        {"NULL": True},
        {"SS": ["x"]},
        {"S": "x", "N": "1"},
        "x",
    ],
)
def test_a_sealed_cursor_whose_key_is_not_a_string_or_number_is_refused(value):
    cursor = encode_cursor({"org_id": {"S": "root"}, "email": value}, 0, bound_to=BOUND)
    with pytest.raises(InvalidCursor) as refused:
        decode_cursor(cursor, bound_to=BOUND)
    assert status_of(refused.value) == 400  # a bad cursor, never a 500 from DynamoDB refusing the key


def walk(list_page):
    """Every page of a list, as lists of e-mails, following cursors to the end."""
    pages, cursor = [], None
    while True:
        items, cursor = list_page(cursor)
        pages.append([user.email for user in items])
        if cursor is None:
            return pages


@pytest.fixture
def three_orgs(aws):
    """Users in three organizations (2, 0 and 5 of them) and one query per organization, in that order."""
    import functools

    from chalicelib.models import UserModel
    from tests.helpers import make_org

    make_org("org_b")
    make_org("org_c")
    emails = {
        "root": ["r1@example.com", "r2@example.com"],
        "org_b": [],
        "org_c": [f"c{i}@example.com" for i in range(1, 6)],
    }
    for org_id, addresses in emails.items():
        for email in addresses:
            make_user(email=email, org_id=org_id)
    return [functools.partial(UserModel.org_index.query, org_id) for org_id in emails]


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 6, 7, 8])
def test_a_chain_pages_in_order_with_full_pages_however_its_queries_split(three_orgs, limit):
    from chalicelib.paging import page_chain

    everyone = ["r1@example.com", "r2@example.com"] + [f"c{i}@example.com" for i in range(1, 6)]
    pages = walk(lambda cursor: page_chain(three_orgs, limit, cursor, bound_to=BOUND))
    assert [email for shown in pages for email in shown] == everyone
    assert [len(shown) for shown in pages] == [limit] * (7 // limit) + ([7 % limit] if 7 % limit else [])


def test_a_single_query_pages_through_page_with_its_cursor(aws):
    import functools

    from chalicelib.models import UserModel
    from chalicelib.paging import page

    for i in range(5):
        make_user(email=f"u{i}@example.com")
    query = functools.partial(UserModel.org_index.query, "root")
    assert walk(lambda cursor: page(query, 2, cursor, bound_to=BOUND)) == [
        ["u0@example.com", "u1@example.com"],
        ["u2@example.com", "u3@example.com"],
        ["u4@example.com"],
    ]


def test_a_cursor_naming_a_query_the_chain_does_not_have_is_refused(three_orgs):
    from chalicelib.paging import page, page_chain

    with pytest.raises(InvalidCursor):
        page(three_orgs[0], 2, encode_cursor(None, 1, bound_to=BOUND), bound_to=BOUND)
    with pytest.raises(InvalidCursor):
        page_chain(three_orgs, 2, encode_cursor(None, 3, bound_to=BOUND), bound_to=BOUND)


@pytest.mark.parametrize("limit", [1, 2, 3, 5])
def test_a_filtered_chain_shows_only_what_select_keeps_in_full_pages(three_orgs, limit):
    from chalicelib.paging import page_chain

    kept = {"r2@example.com", "c1@example.com", "c2@example.com", "c5@example.com"}
    pages = walk(
        lambda cursor: page_chain(
            three_orgs,
            limit,
            cursor,
            bound_to=BOUND,
            select=lambda users: [(user, user) for user in users if user.email in kept],
        )
    )
    assert [email for shown in pages for email in shown] == [
        "r2@example.com",
        "c1@example.com",
        "c2@example.com",
        "c5@example.com",
    ]
    assert all(len(shown) == limit for shown in pages[:-1]) and 0 < len(pages[-1]) <= limit


def test_a_filtered_page_hands_out_a_cursor_once_its_read_budget_is_spent(aws, monkeypatch):
    import functools

    from chalicelib import paging
    from chalicelib.models import UserModel

    monkeypatch.setattr(paging, "READ_BUDGET", 5)
    emails = [f"u{i:02d}@example.com" for i in range(20)]
    for email in emails:
        make_user(email=email)
    kept = {"u14@example.com", "u17@example.com"}
    query = functools.partial(UserModel.org_index.query, "root")
    # limit 2 reads chunks of 3 rows: 9 rows (>= 2 + 5) and nothing kept, so an empty page with a cursor after
    # row 9; then 15 and 18 fill the next page, and one more read finds row 19 behind it; row 19 and 20 show none.
    pages = walk(
        lambda cursor: paging.page(
            query,
            2,
            cursor,
            bound_to=BOUND,
            select=lambda users: [(user, user) for user in users if user.email in kept],
        )
    )
    assert pages == [[], ["u14@example.com", "u17@example.com"], []]


def test_a_start_key_dynamodb_refuses_is_a_bad_cursor_and_other_query_errors_stay_errors():
    from botocore.exceptions import ClientError
    from pynamodb.exceptions import QueryError

    from chalicelib.paging import page

    def failing(code):
        class Results:  # like pynamodb's: the query runs when read
            last_evaluated_key = None

            def __iter__(self):
                raise QueryError("refused", cause=ClientError({"Error": {"Code": code, "Message": "no"}}, "Query"))

        return lambda **_: Results()

    with_key = encode_cursor(KEY, 0, bound_to=BOUND)
    with pytest.raises(InvalidCursor):
        page(failing("ValidationException"), 2, with_key, bound_to=BOUND)
    with pytest.raises(QueryError):
        page(failing("ValidationException"), 2, None, bound_to=BOUND)  # no cursor given: our own query is wrong
    with pytest.raises(QueryError):
        page(failing("ProvisionedThroughputExceededException"), 2, with_key, bound_to=BOUND)

    # A filtered list (one that selects what its reader may see) reads its rows another way: the same rule.
    def every_row(rows):
        return [(row, row) for row in rows]

    with pytest.raises(InvalidCursor):
        page(failing("ValidationException"), 2, with_key, bound_to=BOUND, select=every_row)
    with pytest.raises(QueryError):
        page(failing("ValidationException"), 2, None, bound_to=BOUND, select=every_row)


def test_a_cursor_defaults_to_the_first_query_holds_numbers_and_is_url_safe():
    numeric = {"org_id": {"S": "root"}, "n": {"N": "42"}}
    assert decode_cursor(encode_cursor(numeric, bound_to=BOUND), bound_to=BOUND) == (0, numeric)
    # Payloads of every length modulo 3, so some would need base64 padding: none is sent.
    for filler in ("a", "ab", "abc"):
        cursor = encode_cursor({"org_id": {"S": filler}}, 0, bound_to=BOUND)
        assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_a_cursor_of_exactly_the_maximum_length_is_read():
    from chalicelib.paging import MAX_CURSOR

    for size in range(1000, 1600):
        cursor = encode_cursor({"org_id": {"S": "x" * size}}, 0, bound_to=BOUND)
        if len(cursor) == MAX_CURSOR:
            break
    assert len(cursor) == MAX_CURSOR
    assert decode_cursor(cursor, bound_to=BOUND)[1] == {"org_id": {"S": "x" * size}}


@pytest.fixture
def three_full_orgs(aws):
    """Two users in each of three organizations, one query per organization."""
    import functools

    from chalicelib.models import UserModel
    from tests.helpers import make_org

    for org_id in ("org_b", "org_c"):
        make_org(org_id)
    for org_id in ("root", "org_b", "org_c"):
        for n in (1, 2):
            make_user(email=f"{org_id}-{n}@example.com", org_id=org_id)
    return [functools.partial(UserModel.org_index.query, org_id) for org_id in ("root", "org_b", "org_c")]


@pytest.mark.parametrize("limit", [1, 2, 4])
@pytest.mark.parametrize("filtered", [False, True])
def test_a_chain_never_skips_a_query_that_holds_items(three_full_orgs, limit, filtered):
    from chalicelib.paging import page_chain

    select = (lambda users: [(user, user) for user in users]) if filtered else None
    pages = walk(lambda cursor: page_chain(three_full_orgs, limit, cursor, bound_to=BOUND, select=select))
    assert [email for shown in pages for email in shown] == [
        f"{org_id}-{n}@example.com" for org_id in ("root", "org_b", "org_c") for n in (1, 2)
    ]


def test_a_read_budget_spent_exactly_cuts_the_page_and_resumes_in_the_same_query(three_full_orgs, monkeypatch):
    from chalicelib import paging

    monkeypatch.setattr(paging, "READ_BUDGET", 1)
    kept = {"org_c-2@example.com"}
    # limit 1 reads 2 rows a chunk; 2 >= 1 + 1 spends the budget after every chunk: one page per query, and the
    # cursor after org_b's rows must resume in org_b's query's successor, org_c, not start over.
    pages = walk(
        lambda cursor: paging.page_chain(
            three_full_orgs,
            1,
            cursor,
            bound_to=BOUND,
            select=lambda users: [(user, user) for user in users if user.email in kept],
        )
    )
    assert pages == [[], [], ["org_c-2@example.com"]]
