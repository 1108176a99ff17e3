"""Changing the own e-mail address, at the service."""

import pytest

from chalicelib.errors import NotAuthenticated
from chalicelib.services.accounts import email_change, sessions
from chalicelib.services.tenants.users import delete_user_record
from tests.helpers import make_user


def test_an_account_deleted_after_authentication_asks_for_a_new_login_instead_of_failing(aws):
    user = make_user()
    principal = sessions.principal_of(user)
    delete_user_record(user)
    with pytest.raises(NotAuthenticated):
        email_change.request_email_change(principal, "new@example.com")
