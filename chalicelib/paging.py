"""Cursor paging over DynamoDB queries: a sealed cursor (where to go on, bound to who reads which list) and a limit.

A cursor is AES-GCM under a key derived from the server secret, with the binding (reader + list + filters) as
associated data: it reveals nothing of the start key inside, cannot be forged or edited, and is refused when
replayed by another reader or on another query. Lists whose index spans organizations pass `select`, so a page
holds only what the reader may see and its cursor resumes after the last item shown.
"""

import base64
import binascii
import itertools
import json
import os
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from chalicelib.errors import BadRequest, Unprocessable

if TYPE_CHECKING:  # imported on first use at run time
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_CURSOR = 2000  # characters; the query schema's maxLength
# Rows a filtered list reads beyond its page in one request before it hands out a cursor anyway: a label shared
# by thousands of other tenants' devices costs a few requests, never one unbounded read.
READ_BUDGET = 1000
_NONCE = 12

Select = Callable[[List[Any]], Iterable[Tuple[Any, Any]]]


class InvalidCursor(BadRequest):
    code, message = "invalid_cursor", "The cursor is not one this list handed out."


class InvalidLimit(Unprocessable):
    code, message = "invalid_limit", f"limit must be a whole number from 1 to {MAX_LIMIT}."


def parse_limit(raw: Optional[str]) -> int:
    """The page size from a query parameter (default 50, at most 500)."""
    if raw in (None, ""):
        return DEFAULT_LIMIT
    if not str(raw).isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise InvalidLimit()
    return int(raw)


def binding(reader: str, list_name: str, **filters: Any) -> str:
    """What a cursor is bound to: the reader (user id or portal access id), the list, and its filters (unset
    filters, None or "", count as absent)."""
    shown = {name: value for name, value in filters.items() if value not in (None, "")}
    return json.dumps([reader, list_name, shown], sort_keys=True, separators=(",", ":"), default=str)


def _aead() -> "AESGCM":
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from chalicelib.security import keyed_digest

    digest = keyed_digest("paging-cursor-key")
    return AESGCM(base64.urlsafe_b64decode(digest + "=" * (-len(digest) % 4)))


def encode_cursor(key: Optional[Dict[str, Any]], query_index: int = 0, *, bound_to: str) -> str:
    """A sealed, URL-safe cursor: which query of a chain and where in it to go on (None: its start), readable
    only by this server and only under the same binding."""
    payload = json.dumps({"q": query_index, "k": key or None}, sort_keys=True, separators=(",", ":")).encode()
    nonce = os.urandom(_NONCE)
    sealed = nonce + _aead().encrypt(nonce, payload, bound_to.encode("utf-8"))
    return base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def decode_cursor(cursor: Optional[str], *, bound_to: str) -> Tuple[int, Optional[Dict[str, Any]]]:
    """The query index and start key inside a cursor; InvalidCursor when it is not one this list handed out to
    this reader (forged, edited, truncated, another reader's or another query's)."""
    from cryptography.exceptions import InvalidTag

    if not cursor:
        return 0, None
    if len(cursor) > MAX_CURSOR:
        raise InvalidCursor()
    try:
        sealed = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        if len(sealed) <= _NONCE + 16:
            raise InvalidCursor()
        payload = json.loads(_aead().decrypt(sealed[:_NONCE], sealed[_NONCE:], bound_to.encode("utf-8")))
        index, key = payload["q"], payload["k"]
    except (ValueError, TypeError, KeyError, binascii.Error, InvalidTag):
        raise InvalidCursor() from None
    # Only this server seals cursors, but the shape is still checked before a key reaches DynamoDB.
    valid = (
        isinstance(index, int)
        and index >= 0
        and (
            key is None
            or isinstance(key, dict)
            and key
            and all(isinstance(value, dict) and len(value) == 1 and set(value) <= {"S", "N"} for value in key.values())
        )
    )
    if not valid:
        raise InvalidCursor()
    return index, key


def page(
    query: Callable[..., Any], limit: int, cursor: Optional[str], *, bound_to: str, select: Optional[Select] = None
) -> Tuple[List[Any], Optional[str]]:
    """One page of a pynamodb query and the cursor of the next (None when this page is the last)."""
    return page_chain([query], limit, cursor, bound_to=bound_to, select=select)


def page_chain(
    queries: Sequence[Callable[..., Any]],
    limit: int,
    cursor: Optional[str],
    *,
    bound_to: str,
    select: Optional[Select] = None,
) -> Tuple[List[Any], Optional[str]]:
    """One page over several queries read one after another (e.g. an organization's tree, then its partners).

    Each `query(limit=, page_size=, last_evaluated_key=)` runs one pynamodb query. A query reads one item
    more than the page needs, so a list ending exactly on a page boundary answers no cursor and no empty page.
    `select(read_items)` -> (read item, shown item) pairs, in order, of what the reader may see: for an index
    that spans organizations (or sites); the cursor then never holds the key of an item the reader may not see
    (except after READ_BUDGET unseen rows, where it can only resume after the last row read).
    """
    index, key = decode_cursor(cursor, bound_to=bound_to)
    if index >= len(queries):
        raise InvalidCursor()
    if select is not None:
        return _selected_page(queries, limit, index, key, bound_to, select)
    items: List[Any] = []
    while index < len(queries):
        wanted = limit - len(items)
        results = queries[index](limit=wanted, page_size=wanted + 1, last_evaluated_key=key)
        items += _read(lambda: list(results), key)
        key = results.last_evaluated_key
        if key:
            return items, encode_cursor(key, index, bound_to=bound_to)
        index, key = index + 1, None
        if len(items) >= limit:
            # This query is done; the next one may be empty, so peek before handing out a cursor.
            return items, _next_nonempty(queries, index, bound_to)
    return items, None


def _read(read: Callable[[], Any], key: Optional[Dict[str, Any]]) -> Any:
    from pynamodb.exceptions import QueryError

    try:
        return read()
    except QueryError as error:  # a start key DynamoDB refuses (another partition's) is a bad cursor, not a 500
        if key and error.cause_response_code == "ValidationException":
            raise InvalidCursor() from None
        raise


def _selected_page(
    queries: Sequence[Callable[..., Any]],
    limit: int,
    index: int,
    key: Optional[Dict[str, Any]],
    bound_to: str,
    select: Select,
) -> Tuple[List[Any], Optional[str]]:
    shown: List[Any] = []
    read = 0
    chunk = min(limit + 1, 100)  # one BatchGet at most per chunk when `select` reads the items behind an index
    while index < len(queries):
        results = queries[index](page_size=chunk, last_evaluated_key=key)
        while True:
            rows = _read(lambda: list(itertools.islice(results, chunk)), key)
            if not rows:
                break
            read += len(rows)
            for row, item in select(rows):
                shown.append(item)
                if len(shown) == limit:
                    more = row is not rows[-1] or _read(lambda: next(results, None), key) is not None
                    if more:
                        return shown, encode_cursor(_key_of(results, row), index, bound_to=bound_to)
                    return shown, _next_nonempty(queries, index + 1, bound_to)
            if read >= limit + READ_BUDGET:
                return shown, encode_cursor(_key_of(results, rows[-1]), index, bound_to=bound_to)
        index, key = index + 1, None
    return shown, None


def _key_of(results: Any, row: Any) -> Dict[str, Any]:
    """The start key that resumes a query right after this row (what DynamoDB's LastEvaluatedKey would be)."""
    attributes = row.serialize(null_check=False)  # an index may project only some attributes
    return {name: attributes[name] for name in results.page_iter.key_names}


def _next_nonempty(queries: Sequence[Callable[..., Any]], index: int, bound_to: str) -> Optional[str]:
    for later in range(index, len(queries)):
        if list(queries[later](limit=1, page_size=1, last_evaluated_key=None)):
            return encode_cursor(None, later, bound_to=bound_to)
    return None
