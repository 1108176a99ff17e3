"""The one error shape."""

from chalicelib.api.statuses import status_of
from chalicelib.errors import AccountLocked, ValidationFailed, domain_errors


def test_errors_render_the_one_json_shape():
    assert AccountLocked().to_body() == {"error": {"code": "account_locked", "message": AccountLocked.message}}
    assert status_of(AccountLocked) == 429


def test_details_are_included_only_when_given():
    body = ValidationFailed(details=[{"field": "name", "problem": "is required"}]).to_body()
    assert body["error"]["details"] == [{"field": "name", "problem": "is required"}]


def test_every_domain_error_has_a_code_and_a_status_of_an_error():
    for error_class in domain_errors():
        assert 400 <= status_of(error_class) <= 599 and error_class.code.islower(), error_class


def test_every_429_names_how_long_to_wait_and_the_edge_sends_it_as_retry_after():
    import app  # noqa: F401  (imports every service module, so every error class is defined)
    from chalicelib.api.http import error_response

    throttles = [error_class for error_class in domain_errors() if status_of(error_class) == 429]
    assert throttles
    for error_class in throttles:
        response = error_response(error_class())
        assert int(response.headers["Retry-After"]) >= 1, error_class
    assert error_response(AccountLocked(retry_after=42.5)).headers["Retry-After"] == "42"
    assert "Retry-After" not in error_response(ValidationFailed()).headers
