"""Sessions: authentication of bearer tokens, the temporary-password gate, ending sessions."""
import pytest

from chalicelib.api.http import ROUTES
from chalicelib.errors import NotAuthenticated, PasswordChangeRequired
from chalicelib.services.accounts import sessions
from tests.helpers import make_user

# The only routes a user with a temporary password may call (API.md, section Account).
OPEN_WITH_TEMPORARY_PASSWORD = {("GET", "/me"), ("PATCH", "/me"), ("POST", "/me/password"), ("POST", "/auth/logout")}


def test_a_temporary_password_user_is_refused_everywhere_but_the_account_routes(aws):
    import app  # noqa: F401  (registers the routes)

    token, _ = sessions.open_session(make_user(must_change_password=True))
    with pytest.raises(PasswordChangeRequired):
        sessions.authenticate(token)
    assert sessions.authenticate(token, allow_pending_password_change=True).must_change_password
    pending_ok = {(spec.method, spec.path) for spec in ROUTES if spec.pending_password_ok}
    assert pending_ok == OPEN_WITH_TEMPORARY_PASSWORD


def test_ending_the_sessions_of_a_user_keeps_only_the_one_named(aws):
    user = make_user()
    tokens = [sessions.open_session(user)[0] for _ in range(3)]
    keep = sessions.authenticate(tokens[0]).session_hash
    assert sessions.end_sessions_of_user(user.user_id, keep=keep) == 2
    assert sessions.authenticate(tokens[0]).user_id == user.user_id
    for token in tokens[1:]:
        with pytest.raises(NotAuthenticated):
            sessions.authenticate(token)
