"""Cursor paging over DynamoDB queries: an opaque cursor (the encoded start key) and a limit."""
import base64
import json
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

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


def encode_cursor(key: Optional[Dict[str, Any]], query_index: int = 0) -> str:
    """An opaque, URL-safe cursor: which query of a chain, and where in it to go on (None: its start)."""
    payload = {"q": query_index, "k": key or None}
    return base64.urlsafe_b64encode(json.dumps(payload, sort_keys=True).encode()).decode().rstrip("=")


def decode_cursor(cursor: Optional[str]) -> Tuple[int, Optional[Dict[str, Any]]]:
    """The query index and start key inside a cursor; InvalidCursor when it is not one of ours."""
    if not cursor:
        return 0, None
    if len(cursor) > 2000:
        raise InvalidCursor()
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        index, key = payload["q"], payload["k"]
    except (ValueError, TypeError, KeyError):
        raise InvalidCursor() from None
    valid = isinstance(index, int) and index >= 0 and (key is None or isinstance(key, dict) and key and all(
        isinstance(value, dict) and len(value) == 1 and set(value) <= {"S", "N"} for value in key.values()))
    if not valid:
        raise InvalidCursor()
    return index, key


def page(query: Callable[..., Any], limit: int, cursor: Optional[str]) -> Tuple[List[Any], Optional[str]]:
    """One page of a pynamodb query and the cursor of the next (None when this page is the last)."""
    return page_chain([query], limit, cursor)


def page_chain(queries: Sequence[Callable[..., Any]], limit: int,
               cursor: Optional[str]) -> Tuple[List[Any], Optional[str]]:
    """One page over several queries read one after another (e.g. an organization's tree, then its partners).

    Each `query(limit=, page_size=, last_evaluated_key=)` runs one pynamodb query. A query reads one item
    more than the page needs, so a list ending exactly on a page boundary answers no cursor and no empty page.
    """
    from pynamodb.exceptions import QueryError

    index, key = decode_cursor(cursor)
    if index >= len(queries):
        raise InvalidCursor()
    items: List[Any] = []
    while index < len(queries):
        wanted = limit - len(items)
        results = queries[index](limit=wanted, page_size=wanted + 1, last_evaluated_key=key)
        try:
            items += list(results)
        except QueryError as error:  # a forged start key (e.g. another partition's) DynamoDB refuses
            if key and error.cause_response_code == "ValidationException":
                raise InvalidCursor() from None
            raise
        key = results.last_evaluated_key
        if key:
            return items, encode_cursor(key, index)
        index, key = index + 1, None
        if len(items) >= limit:
            # This query is done; the next one may be empty, so peek before handing out a cursor.
            return items, _next_nonempty(queries, index)
    return items, None


def _next_nonempty(queries: Sequence[Callable[..., Any]], index: int) -> Optional[str]:
    for later in range(index, len(queries)):
        if list(queries[later](limit=1, page_size=1, last_evaluated_key=None)):
            return encode_cursor(None, later)
    return None
