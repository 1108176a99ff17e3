"""Domain errors and their one mapping to an HTTP status and JSON body."""
from typing import Any, Dict, Iterator, Optional, Type


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    status = 400
    code = "bad_request"
    message = "The request could not be handled."
    retry_after: Optional[int] = None  # seconds; the edge sends it as Retry-After (every 429 names one)

    def __init__(self, message: Optional[str] = None, *, details: Optional[Any] = None,
                 retry_after: Optional[int] = None):
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
    """Every subclass of a domain error, however deep (those of modules imported so far)."""
    for sub in base.__subclasses__():
        yield sub
        yield from domain_errors(sub)


class InvalidJson(DomainError):
    status, code, message = 400, "invalid_json", "The request body is not valid JSON."


class InvalidEncoding(DomainError):
    status, code, message = 400, "invalid_encoding", "The body is not UTF-8 text."


class ValidationFailed(DomainError):
    status, code, message = 422, "validation_failed", "The request does not match the expected fields."


class UnsupportedMediaType(DomainError):
    status, code, message = 415, "unsupported_media_type", "Send the body as application/json."


class BodyTooLarge(DomainError):
    status, code, message = 413, "body_too_large", "The request body is larger than allowed."


class NotAuthenticated(DomainError):
    status, code, message = 401, "not_authenticated", "Log in first: send Authorization: Bearer <token>."


class InvalidCredentials(DomainError):
    status, code, message = 401, "invalid_credentials", "E-mail or password is wrong."


class AccountLocked(DomainError):
    status, code = 429, "account_locked"
    retry_after = 15 * 60  # the default lockout; the raiser names the lock's real end
    message = "Too many failed logins: the account is locked for a while. Try again later."


class PasswordChangeRequired(DomainError):
    status, code = 403, "password_change_required"
    message = "Change your temporary password first (POST /me/password)."


class Forbidden(DomainError):
    status, code, message = 403, "forbidden", "You are not allowed to do this."


class NotFound(DomainError):
    status, code, message = 404, "not_found", "Not found."


class RouteNotFound(NotFound):
    code, message = "route_not_found", "No such route."


class MethodNotAllowed(DomainError):
    status, code, message = 405, "method_not_allowed", "This route does not answer that method."


class Conflict(DomainError):
    status, code, message = 409, "conflict", "The request conflicts with the current state."


class EmailTaken(Conflict):
    code, message = "email_taken", "An account with this e-mail address already exists."


class WeakPassword(DomainError):
    status, code, message = 422, "weak_password", "The password does not meet the password policy."


class WrongPassword(DomainError):
    status, code, message = 422, "wrong_password", "The current password is wrong."


class InternalError(DomainError):
    status, code, message = 500, "internal_error", "Something went wrong on our side; it has been logged."
