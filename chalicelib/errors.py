"""Domain errors: what went wrong, as a kind, a stable code and a message. Which HTTP status answers a kind is the
edge's choice alone (chalicelib/api/statuses.py); an error names none.

A kind groups the errors one answer fits: a concrete kind (NotFound, Conflict, Forbidden...) may be raised itself;
an abstract one (`abstract=True`: Gone, TooLarge, RateLimited...) only through its specific errors.
"""

from typing import Any, Dict, Iterator, Optional, Type


class DomainError(Exception):
    """Base of every error a service raises on purpose; raised bare (only the edge does), a request refused for no
    more specific reason."""

    code = "bad_request"
    message = "The request could not be handled."
    retry_after: Optional[int] = None  # seconds until the request may be allowed again (every RateLimited says)
    abstract = False  # a kind only, never raised itself (set by `class Kind(DomainError, abstract=True)`)

    def __init_subclass__(cls, abstract: bool = False, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        cls.abstract = abstract  # on every class: a kind's subclasses are not abstract by inheritance

    def __init__(
        self, message: Optional[str] = None, *, details: Optional[Any] = None, retry_after: Optional[int] = None
    ):
        if self.abstract:
            raise TypeError(f"{type(self).__name__} is a kind of error: raise one of its specific errors")
        super().__init__(message or self.message)
        self.message = message or self.message
        self.details = details
        if retry_after is not None:
            self.retry_after = max(1, int(retry_after))

    def to_body(self) -> Dict[str, Any]:
        """The one JSON error shape: {"error": {"code", "message"[, "details"]}}."""
        error: Dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


def domain_errors(base: Type[DomainError] = DomainError) -> Iterator[Type[DomainError]]:
    """Every error that can be raised below a domain error, however deep (of the modules imported so far); abstract
    kinds are left out."""
    for sub in base.__subclasses__():
        if not sub.abstract:
            yield sub
        yield from domain_errors(sub)


# --- the kinds: what happened, whatever the request was


class BadRequest(DomainError, abstract=True):
    """The request cannot be read, or asks for something no request may ask for."""


class NotAuthenticated(DomainError):
    """Who asks is not established: no session, an expired one, or credentials that prove nothing."""

    code, message = "not_authenticated", "Log in first: send Authorization: Bearer <token>."


class Forbidden(DomainError):
    """Who asks is known and may not do this."""

    code, message = "forbidden", "You are not allowed to do this."


class NotFound(DomainError):
    """What the request names does not exist, or not within the asker's scope (the two are never told apart)."""

    code, message = "not_found", "Not found."


class MethodNotAllowed(DomainError):
    """The route exists; the method does not."""

    code, message = "method_not_allowed", "This route does not answer that method."


class Conflict(DomainError):
    """The current state of what the request names does not allow it (now, or any more)."""

    code, message = "conflict", "The request conflicts with the current state."


class Gone(DomainError, abstract=True):
    """What the request names existed and can no longer be used: expired or used up."""


class TooLarge(DomainError, abstract=True):
    """The request is more than one request may carry or ask for."""


class UnsupportedMediaType(DomainError):
    """The body comes in a format the route does not read."""

    code, message = "unsupported_media_type", "Send the body as application/json."


class Unprocessable(DomainError, abstract=True):
    """The request is well-formed, and its values break a rule."""


class RateLimited(DomainError, abstract=True):
    """Too many requests of this kind; `retry_after` says when one is allowed again."""


class InternalError(DomainError):
    """Something failed on our side; nothing the asker can change."""

    code, message = "internal_error", "Something went wrong on our side; it has been logged."


class UpstreamFailed(DomainError, abstract=True):
    """A service we depend on (e.g. mail) failed; the request changed nothing and may be tried again."""


# --- errors every entrypoint raises


class InvalidJson(BadRequest):
    code, message = "invalid_json", "The request body is not valid JSON."


class InvalidEncoding(BadRequest):
    code, message = "invalid_encoding", "The body is not UTF-8 text."


class ValidationFailed(Unprocessable):
    code, message = "validation_failed", "The request does not match the expected fields."


class BodyTooLarge(TooLarge):
    code, message = "body_too_large", "The request body is larger than allowed."


class InvalidCredentials(NotAuthenticated):
    code, message = "invalid_credentials", "E-mail or password is wrong."


class AccountLocked(RateLimited):
    code = "account_locked"
    retry_after = 15 * 60  # the default lockout; the raiser names the lock's real end
    message = "Too many failed logins: the account is locked for a while. Try again later."


class PasswordChangeRequired(Forbidden):
    code = "password_change_required"
    message = "Change your temporary password first (POST /me/password)."


class RouteNotFound(NotFound):
    code, message = "route_not_found", "No such route."


class EmailTaken(Conflict):
    code, message = "email_taken", "An account with this e-mail address already exists."


class WeakPassword(Unprocessable):
    code, message = "weak_password", "The password does not meet the password policy."


class WrongPassword(Unprocessable):
    code, message = "wrong_password", "The current password is wrong."
