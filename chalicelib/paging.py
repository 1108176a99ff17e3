"""Cursor paging over DynamoDB queries: an opaque cursor (the encoded start key) and a limit."""
import base64
import json
from typing import Any, Callable, Dict, List, Optional, Tuple

from chalicelib.errors import DomainError

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class InvalidCursor(DomainError):
    status, code, message = 400, "invalid_cursor", "The cursor is not one this list handed out."


class InvalidLimit(DomainError):
    status, code, message = 422, "invalid_limit", f"limit must be a whole number from 1 to {MAX_LIMIT}."


def parse_limit(raw: Optional[str]) -> int:
    """The page size from a query parameter (default 50, at most 500)."""
    if raw in (None, ""):
        return DEFAULT_LIMIT
    if not str(raw).isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise InvalidLimit()
    return int(raw)


def encode_cursor(key: Optional[Dict[str, Any]]) -> Optional[str]:
    """An opaque, URL-safe cursor for a DynamoDB start key (None: no more pages)."""
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode().rstrip("=")


def decode_cursor(cursor: Optional[str]) -> Optional[Dict[str, Any]]:
    """The start key inside a cursor; InvalidCursor when it is not one of ours."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError):
        raise InvalidCursor() from None
    valid = isinstance(key, dict) and all(
        isinstance(value, dict) and len(value) == 1 and set(value) <= {"S", "N"} for value in key.values())
    if not valid or len(cursor) > 2000:
        raise InvalidCursor()
    return key


def page(query: Callable[..., Any], limit: int, cursor: Optional[str]) -> Tuple[List[Any], Optional[str]]:
    """One page of a pynamodb query and the cursor of the next (None when this page is the last).

    `query(limit=, page_size=, last_evaluated_key=)` runs the query. It reads one item more than the
    page holds, so a list that ends exactly on a page boundary answers no cursor and no empty page.
    """
    from pynamodb.exceptions import QueryError

    results = query(limit=limit, page_size=limit + 1, last_evaluated_key=decode_cursor(cursor))
    try:
        items = list(results)
    except QueryError as error:  # a forged start key (e.g. another partition's) DynamoDB refuses
        if cursor and error.cause_response_code == "ValidationException":
            raise InvalidCursor() from None
        raise
    return items, encode_cursor(results.last_evaluated_key)
