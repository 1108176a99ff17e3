"""Password reset and e-mail change: single-use, expiring links; the same answer for unknown addresses."""

import re
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.models import OneTimeTokenModel
from chalicelib.security import token_hash
from chalicelib.services.tenants.users import find_user_by_email
from tests.aws_calls import record_aws_operations
from tests.conftest import run_queued_jobs
from tests.helpers import STRONG_PASSWORD, make_user

NEW_PASSWORD = "Reset-Passw0rd-2026"


def link_token(mailbox, to, path):
    run_queued_jobs()
    [message] = mailbox.messages(to=to)
    return re.search(rf"{path}/([A-Za-z0-9_-]+)", mailbox.text(message)).group(1)


def test_known_and_unknown_emails_get_the_same_answer_and_only_the_known_one_a_mail(api, mailbox):
    make_user(email="ada@example.com")
    known = api.call("POST", "/public/password-resets", {"email": "ada@example.com"})
    unknown = api.call("POST", "/public/password-resets", {"email": "nobody@example.com"})
    malformed = api.call("POST", "/public/password-resets", {"email": "not an address"})
    assert known.status_code == unknown.status_code == malformed.status_code == 202
    assert known.body == unknown.body == malformed.body
    run_queued_jobs()
    assert [m["To"] for m in mailbox.messages()] == ["ada@example.com"]


def test_a_reset_request_makes_the_same_aws_calls_for_a_known_and_an_unknown_address(api, mailbox):
    make_user(email="ada@example.com")
    with record_aws_operations() as known:
        assert api.call("POST", "/public/password-resets", {"email": "ada@example.com"}).status_code == 202
    with record_aws_operations() as unknown:
        assert api.call("POST", "/public/password-resets", {"email": "nobody@example.com"}).status_code == 202
    assert known == unknown and known  # same calls, same order: the time tells nothing about the address
    assert mailbox.messages() == []  # the mail is the worker's


def test_the_worker_mails_the_reset_link_to_a_known_active_address_only(api, mailbox):
    make_user(email="ada@example.com")
    disabled = make_user(email="bob@example.com")
    disabled.update(actions=[disabled.__class__.status.set("DISABLED")])
    for email in ("ada@example.com", "bob@example.com", "nobody@example.com"):
        api.call("POST", "/public/password-resets", {"email": email})
    run_queued_jobs()
    [message] = mailbox.messages()
    assert message["To"] == "ada@example.com" and message["X-Keyport-Mail-Type"] == "password_reset"
    assert [item.purpose for item in OneTimeTokenModel.scan()] == ["password_reset"]


def test_a_reset_link_sets_the_password_once_and_ends_every_session(api, mailbox):
    make_user(email="ada@example.com", language="it")
    session = api.login("ada@example.com")
    api.call("POST", "/public/password-resets", {"email": "ada@example.com"})
    token = link_token(mailbox, "ada@example.com", "reset-password")
    assert "60 minuti" in mailbox.text(mailbox.messages()[0])
    assert api.call("POST", f"/public/password-resets/{token}", {"new_password": NEW_PASSWORD}).status_code == 204
    assert api.call("GET", "/me", token=session).status_code == 401
    api.login("ada@example.com", NEW_PASSWORD)
    replay = api.call("POST", f"/public/password-resets/{token}", {"new_password": "Other-Passw0rd-99"})
    assert (replay.status_code, replay.data["error"]["code"]) == (410, "token_invalid")


def test_a_weak_password_does_not_spend_the_link(api, mailbox):
    make_user(email="ada@example.com")
    api.call("POST", "/public/password-resets", {"email": "ada@example.com"})
    token = link_token(mailbox, "ada@example.com", "reset-password")
    weak = api.call("POST", f"/public/password-resets/{token}", {"new_password": "password"})
    assert (weak.status_code, weak.data["error"]["code"]) == (422, "weak_password")
    assert api.call("POST", f"/public/password-resets/{token}", {"new_password": NEW_PASSWORD}).status_code == 204


def test_a_reset_link_is_dead_one_second_past_its_hour_while_its_item_still_exists(api, mailbox):
    make_user(email="ada@example.com")
    api.call("POST", "/public/password-resets", {"email": "ada@example.com"})
    token = link_token(mailbox, "ada@example.com", "reset-password")
    item = OneTimeTokenModel.get(token_hash(token))
    assert item.expires_at - item.created_at == timedelta(hours=1)
    item.update(actions=[OneTimeTokenModel.expires_at.set(datetime.now(timezone.utc) - timedelta(seconds=1))])
    response = api.call("POST", f"/public/password-resets/{token}", {"new_password": NEW_PASSWORD})
    assert response.status_code == 410
    assert OneTimeTokenModel.count(token_hash(token)) == 1


@pytest.mark.parametrize("token", ["nonsense", "x" * 43, "y" * 200])
def test_unknown_tokens_answer_410_like_used_ones(api, token):
    response = api.call("POST", f"/public/password-resets/{token}", {"new_password": NEW_PASSWORD})
    assert (response.status_code, response.data["error"]["code"]) == (410, "token_invalid")


def test_a_path_longer_than_any_token_names_nothing(api):
    response = api.call("POST", f"/public/password-resets/{'y' * 201}", {"new_password": NEW_PASSWORD})
    assert (response.status_code, response.data["error"]["code"]) == (404, "not_found")


def test_a_reset_unlocks_a_locked_account(api, mailbox):
    make_user(email="ada@example.com")
    for _ in range(10):
        api.call("POST", "/auth/login", {"email": "ada@example.com", "password": "Wrong-Passw0rd!"})
    # Locked first: even the right password is refused with 429 before the reset.
    locked = api.call("POST", "/auth/login", {"email": "ada@example.com", "password": STRONG_PASSWORD})
    assert (locked.status_code, locked.data["error"]["code"]) == (429, "account_locked"), locked.body
    assert api.call("POST", "/public/password-resets", {"email": "ada@example.com"}).status_code == 202
    token = link_token(mailbox, "ada@example.com", "reset-password")
    assert api.call("POST", f"/public/password-resets/{token}", {"new_password": NEW_PASSWORD}).status_code == 204
    api.login("ada@example.com", NEW_PASSWORD)


def test_an_email_change_takes_effect_only_when_the_new_address_confirms(api, mailbox, login_as):
    token = login_as("VIEWER", email="ada@example.com")
    assert api.call("POST", "/me/email", {"new_email": "Ada.New@Example.com"}, token=token).status_code == 202
    assert api.call("GET", "/me", token=token).data["email"] == "ada@example.com"
    confirm = link_token(mailbox, "ada.new@example.com", "confirm-email")
    assert api.call("POST", f"/public/email-confirmations/{confirm}").status_code == 204
    assert api.call("GET", "/me", token=token).data["email"] == "ada.new@example.com"
    assert find_user_by_email("ada@example.com") is None
    api.login("ada.new@example.com", STRONG_PASSWORD)
    assert api.call("POST", f"/public/email-confirmations/{confirm}").status_code == 410


def test_an_address_that_has_an_account_gets_no_mail_and_the_same_answer(api, mailbox, login_as):
    make_user(email="taken@example.com")
    token = login_as("VIEWER", email="ada@example.com")
    response = api.call("POST", "/me/email", {"new_email": "taken@example.com"}, token=token)
    assert response.status_code == 202 and mailbox.messages() == []


def test_an_address_taken_between_request_and_confirmation_answers_409_and_keeps_the_link(api, mailbox, login_as):
    token = login_as("VIEWER", email="ada@example.com")
    api.call("POST", "/me/email", {"new_email": "new@example.com"}, token=token)
    confirm = link_token(mailbox, "new@example.com", "confirm-email")
    squatter = make_user(email="new@example.com")
    response = api.call("POST", f"/public/email-confirmations/{confirm}")
    assert (response.status_code, response.data["error"]["code"]) == (409, "email_taken")
    assert api.call("GET", "/me", token=token).data["email"] == "ada@example.com"
    assert find_user_by_email("new@example.com").user_id == squatter.user_id


def test_the_own_address_is_refused_as_a_new_one(api, mailbox, login_as):
    token = login_as("VIEWER", email="ada@example.com")
    assert api.call("POST", "/me/email", {"new_email": "ADA@example.com"}, token=token).status_code == 422


def post_form(api, path, **fields):
    from urllib.parse import urlencode

    return api.call("POST", path, raw=urlencode(fields), headers={"Content-Type": "application/x-www-form-urlencoded"})


def test_the_reset_page_sets_the_password_in_the_users_language(api, mailbox):
    make_user(email="ada@example.com", language="sv")
    api.call("POST", "/public/password-resets", {"email": "ada@example.com"})
    token = link_token(mailbox, "ada@example.com", "reset-password")
    page = api.call("GET", f"/reset-password/{token}").body.decode()
    assert '<html lang="sv">' in page and "Välj ett nytt lösenord" in page
    weak = post_form(api, f"/reset-password/{token}", password="kort", password_repeat="kort").body.decode()
    assert "för svagt" in weak and "minst 12 tecken" in weak
    done = post_form(api, f"/reset-password/{token}", password=NEW_PASSWORD, password_repeat=NEW_PASSWORD)
    assert 'id="success"' in done.body.decode()
    assert (
        'href="/console/login?email=ada%40example.com&amp;lang=sv&amp;done=password_reset"' in done.body.decode()
    )  # sign-in, the address filled
    api.login("ada@example.com", NEW_PASSWORD)
    assert 'id="dead"' in api.call("GET", f"/reset-password/{token}").body.decode()


def test_the_confirmation_page_confirms_only_when_its_button_is_pressed(api, mailbox, login_as):
    token = login_as("VIEWER", email="ada@example.com")
    api.call("POST", "/me/email", {"new_email": "ada.new@example.com"}, token=token)
    confirm = link_token(mailbox, "ada.new@example.com", "confirm-email")
    page = api.call("GET", f"/confirm-email/{confirm}").body.decode()
    assert "ada.new@example.com" in page and api.call("GET", "/me", token=token).data["email"] == "ada@example.com"
    done = post_form(api, f"/confirm-email/{confirm}").body.decode()
    assert 'id="success"' in done and api.call("GET", "/me", token=token).data["email"] == "ada.new@example.com"
    assert 'href="/console/login?email=ada.new%40example.com&amp;lang=en"' in done
    assert 'id="dead"' in post_form(api, f"/confirm-email/{confirm}").body.decode()


def test_a_confirmation_link_is_dead_one_second_past_its_day_while_its_item_still_exists(api, mailbox, login_as):
    token = login_as("VIEWER", email="ada@example.com")
    api.call("POST", "/me/email", {"new_email": "ada.new@example.com"}, token=token)
    confirm = link_token(mailbox, "ada.new@example.com", "confirm-email")
    item = OneTimeTokenModel.get(token_hash(confirm))
    assert item.expires_at - item.created_at == timedelta(hours=24)
    item.update(actions=[OneTimeTokenModel.expires_at.set(datetime.now(timezone.utc) - timedelta(seconds=1))])
    assert api.call("POST", f"/public/email-confirmations/{confirm}").status_code == 410
    assert OneTimeTokenModel.count(token_hash(confirm)) == 1
    assert api.call("GET", "/me", token=token).data["email"] == "ada@example.com"


def test_reset_requests_are_throttled_per_address_alike_for_unknown_ones(api, mailbox):
    make_user(email="ada@example.com")
    for email in ("ada@example.com", "nobody@example.com"):
        statuses = [api.call("POST", "/public/password-resets", {"email": email}).status_code for _ in range(6)]
        assert statuses == [202] * 5 + [429]
    run_queued_jobs()
    assert len(mailbox.messages(to="ada@example.com")) == 5
    assert api.call("POST", "/public/password-resets", {"email": "other@example.com"}).status_code == 202
