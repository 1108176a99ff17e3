"""Cursor paging (moto tier; the exact-boundary case also runs on DynamoDB Local)."""
import pytest

from chalicelib.paging import InvalidCursor, InvalidLimit, decode_cursor, encode_cursor, parse_limit
from chalicelib.services.users import page_users_of_org
from tests.helpers import make_user


def test_a_cursor_round_trips_a_query_index_and_start_key():
    key = {"org_id": {"S": "root"}, "email": {"S": "a@example.com"}, "user_id": {"S": "usr_1"}}
    assert decode_cursor(encode_cursor(key, 2)) == (2, key)
    assert decode_cursor(encode_cursor(None, 1)) == (1, None)
    assert decode_cursor(None) == (0, None)


@pytest.mark.parametrize("cursor", ["%%%", "bm90IGpzb24", encode_cursor({"a": "plain"}), "e30" * 1000,
                                    encode_cursor(None, -1)])
def test_a_cursor_that_is_not_ours_is_refused(cursor):
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor)


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
            items, cursor = page_chain(queries, limit, cursor)
            assert items
            seen += [user.email for user in items]
            pages += 1
            if cursor is None:
                break
        assert seen == ["r1@example.com", "r2@example.com", "c1@example.com"] and pages == expected_pages, limit
