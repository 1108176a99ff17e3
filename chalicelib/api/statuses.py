"""The one place where a kind of domain error becomes an HTTP status: the edge's answers and the OpenAPI document
both read this table."""

from typing import Dict, Union

from chalicelib.errors import (
    BadRequest,
    Conflict,
    DomainError,
    Forbidden,
    Gone,
    InternalError,
    MethodNotAllowed,
    NotAuthenticated,
    NotFound,
    RateLimited,
    TooLarge,
    Unprocessable,
    UnsupportedMediaType,
    UpstreamFailed,
)

STATUS_OF_KIND: Dict[type, int] = {
    DomainError: 400,  # refused for no more specific reason
    BadRequest: 400,
    NotAuthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    MethodNotAllowed: 405,
    Conflict: 409,
    Gone: 410,
    TooLarge: 413,
    UnsupportedMediaType: 415,
    Unprocessable: 422,
    RateLimited: 429,
    InternalError: 500,
    UpstreamFailed: 502,
}


def status_of(error: Union[DomainError, type]) -> int:
    """The status answering a domain error (or error class): its nearest kind's."""
    error_class = error if isinstance(error, type) else type(error)
    return next(STATUS_OF_KIND[kind] for kind in error_class.__mro__ if kind in STATUS_OF_KIND)
