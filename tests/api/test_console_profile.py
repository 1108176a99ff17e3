"""The console's profile page: details saved as PATCH /me saves them, the e-mail change with its confirmation mail,
the recipient key of encrypted key files (pasted or uploaded, shown by thumbprint, removed after a confirmation),
and every refusal beside its field; a person only ever sees and changes their own profile."""

import json
import re

import pytest
from markupsafe import escape

from chalicelib.config import get_settings
from chalicelib.services.tenants.users import find_user_by_email
from tests.api.test_console_password import error_beside
from tests.conftest import run_queued_jobs
from tests.console_browser import Browser, text_of
from tests.helpers import STRONG_PASSWORD, make_user
from tests.jose_keys import private_and_public

DETAILS = {
    "name": "Ada Lovelace",
    "phone": "+4915123456789",
    "language": "fr",
    "csv_delimiter": "tab",
    "csv_thousands_separator": "space",
}


class UploadingBrowser(Browser):
    """A browser that also sends forms with a file (multipart/form-data), as the key form's upload does."""

    def post_files(self, path, form, files, csrf="page"):
        """POST a multipart form: text fields, files as {field: (filename, bytes)}, the page's CSRF token."""
        fields = {**form, **({"csrf": self.csrf() if csrf == "page" else csrf} if csrf is not None else {})}
        boundary = "keyport-test-7f3a"
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value.encode() + b"\r\n"
            for name, value in fields.items()
        ]
        parts += [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n".encode()
            + content
            + b"\r\n"
            for name, (filename, content) in files.items()
        ]
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        headers = {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Origin": get_settings().public_base_url,
        }
        return self._send("POST", path, body, headers, True)


def signed_in(api, email="ada@example.com", **fields):
    make_user(email=email, **fields)
    browser = UploadingBrowser(api.client)
    browser.sign_in(email)
    return browser


def me(api, email="ada@example.com"):
    return api.call("GET", "/me", token=api.login(email)).data


def save(browser, **changes):
    browser.get("/console/profile")
    return browser.post("/console/profile", {**DETAILS, **changes})


def public_jwk(kty="EC", size_or_curve="P-256"):
    return private_and_public(kty, size_or_curve)[1]


def test_the_profile_is_in_everyones_navigation(api):
    for role in ("VIEWER", "CUSTOMER", "INSTALLER", "OPERATOR"):
        browser = signed_in(api, email=f"{role.lower()}@example.com", roles=(role,))
        assert '<a href="/console/profile">Profile</a>' in browser.get("/console/").text, role


def test_the_profile_shows_what_is_saved(api):
    browser = signed_in(api, name="Ada Lovelace", phone="+4915123456789", csv_delimiter=",")
    page = browser.get("/console/profile")
    assert page.status_code == 200
    assert 'value="Ada Lovelace"' in page.text and 'value="+4915123456789"' in page.text
    assert '<option value="comma" selected>' in page.text
    assert '<option value="en" lang="en" selected>English</option>' in page.text
    assert "You sign in with ada@example.com." in text_of(page.text)
    assert "No key is saved." in text_of(page.text)


def test_details_are_saved_as_patch_me_saves_them_and_the_next_page_speaks_the_new_language(api):
    browser = signed_in(api)
    done = save(browser)
    assert done.path == "/console/profile?done=saved"
    assert '<html lang="fr">' in done.text and "Votre profil a été enregistré." in text_of(done.text)
    saved = me(api)
    assert (saved["name"], saved["phone"], saved["language"]) == ("Ada Lovelace", "+4915123456789", "fr")
    assert (saved["csv_delimiter"], saved["csv_thousands_separator"]) == ("\t", " ")
    assert '<option value="tab" selected>' in done.text and '<option value="space" selected>' in done.text


def test_an_empty_phone_removes_the_saved_one(api):
    browser = signed_in(api, phone="+4915123456789")
    save(browser, phone="")
    assert me(api).get("phone") is None


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"name": " "}, "name", "Enter this."),
        ({"name": "x" * 201}, "name", "This is too long."),
        ({"phone": "0151 2345"}, "phone", "Give the phone number in international form, e.g. +4915123456789."),
        ({"language": "xx"}, "language", "Check this entry."),
        ({"csv_delimiter": "colon"}, "csv_delimiter", "Check this entry."),
        ({"csv_thousands_separator": "_"}, "csv_thousands_separator", "Check this entry."),
    ],
)
def test_a_refused_detail_is_named_beside_its_field_the_values_kept_and_nothing_saved(api, changes, field, message):
    browser = signed_in(api, name="Before")
    refused = save(browser, **changes)
    assert refused.status_code == 422
    assert error_beside(refused, field) == message
    assert f'<a href="#{field}">{message}</a>' in refused.text
    kept = {**DETAILS, **changes}
    if field != "name":
        assert f'value="{kept["name"]}"' in refused.text
    if field != "phone":
        assert f'value="{kept["phone"]}"' in refused.text
    saved = me(api)
    assert (saved["name"], saved["language"], saved["csv_delimiter"]) == ("Before", "en", ";")


def test_an_email_change_mails_the_confirmation_to_the_new_address_and_keeps_the_old_one_until_then(api, mailbox):
    browser = signed_in(api)
    browser.get("/console/profile")
    done = browser.post("/console/profile/email", {"new_email": "ada@new.example", "current_password": STRONG_PASSWORD})
    assert done.path == "/console/profile?done=email"
    assert "We have sent a confirmation link to the new address." in text_of(done.text)
    [message] = mailbox.messages()
    assert message["To"] == "ada@new.example" and message["X-Keyport-Mail-Type"] == "confirm_email"
    assert re.search(r"/confirm-email/[A-Za-z0-9_-]+", mailbox.text(message))
    assert find_user_by_email("ada@example.com") is not None


@pytest.mark.parametrize(
    "form, field, message",
    [
        (
            {"new_email": "ada@new.example", "current_password": "Wrong-Passw0rd!"},
            "current_password",
            "The current password is wrong.",
        ),
        ({"new_email": "ada@new.example", "current_password": ""}, "current_password", "Enter your current password."),
        ({"new_email": "", "current_password": STRONG_PASSWORD}, "new_email", "Enter the new e-mail address."),
        (
            {"new_email": "ada at new", "current_password": STRONG_PASSWORD},
            "new_email",
            "Enter an e-mail address in the form name@example.com.",
        ),
        (
            {"new_email": "ADA@example.com", "current_password": STRONG_PASSWORD},
            "new_email",
            "That is your current address.",
        ),
    ],
)
def test_a_refused_email_change_is_named_beside_its_field_and_sends_nothing(api, mailbox, form, field, message):
    browser = signed_in(api)
    browser.get("/console/profile")
    refused = browser.post("/console/profile/email", form)
    assert refused.status_code == 422
    assert error_beside(refused, field) == message
    assert f'value="{form["new_email"]}"' in refused.text
    run_queued_jobs()
    assert mailbox.messages() == []


def test_an_address_of_another_account_gets_the_same_answer_and_no_mail(api, mailbox):
    make_user(email="bob@example.com")
    browser = signed_in(api)
    browser.get("/console/profile")
    done = browser.post("/console/profile/email", {"new_email": "bob@example.com", "current_password": STRONG_PASSWORD})
    assert done.path == "/console/profile?done=email"
    assert mailbox.messages() == []


def test_a_pasted_key_is_saved_and_shown_by_its_thumbprint(api):
    from jwcrypto.jwk import JWK

    browser = signed_in(api)
    key = public_jwk()
    browser.get("/console/profile")
    done = browser.post_files("/console/profile/key", {"recipient_jwk": json.dumps(key, indent=2)}, {})
    assert done.path == "/console/profile?done=key"
    assert "Your key has been saved." in text_of(done.text)
    thumbprint = JWK(**key).thumbprint()
    assert f'<code id="thumbprint">{thumbprint}</code>' in done.text
    assert {name: me(api)["recipient_jwk"][name] for name in ("kty", "crv", "x", "y")} == {
        name: key[name] for name in ("kty", "crv", "x", "y")
    }


def test_a_key_is_also_taken_from_an_uploaded_file_and_from_a_plain_form(api):
    browser = signed_in(api)
    key = public_jwk("EC", "P-384")
    browser.get("/console/profile")
    uploaded = browser.post_files(
        "/console/profile/key", {"recipient_jwk": ""}, {"recipient_jwk_file": ("me.jwk", json.dumps(key).encode())}
    )
    assert uploaded.path == "/console/profile?done=key"
    assert me(api)["recipient_jwk"]["crv"] == "P-384"
    other = public_jwk("EC", "P-256")
    browser.post("/console/profile/key", {"recipient_jwk": json.dumps(other)})  # a browser without the upload
    assert me(api)["recipient_jwk"]["x"] == other["x"]


@pytest.mark.parametrize(
    "pasted, files, field, message",
    [
        ("", {}, "recipient_jwk", "Paste the key or choose its file."),
        ("", {"recipient_jwk_file": ("empty.jwk", b"")}, "recipient_jwk", "Paste the key or choose its file."),
        ("{not json", {}, "recipient_jwk", "This is not a JWK"),
        (
            "",
            {"recipient_jwk_file": ("key.der", b"\x30\x82\x01\x0a\x00\xff")},
            "recipient_jwk_file",
            "This is not a JWK",
        ),
        ('{"kty": "oct", "k": "AAAA"}', {}, "recipient_jwk", "keyport cannot use this key."),
        ("PRIVATE", {}, "recipient_jwk", "keyport cannot use this key."),
        ("RSA2048", {}, "recipient_jwk", "keyport cannot use this key."),
    ],
)
def test_a_refused_key_is_named_beside_its_field_the_paste_kept_and_nothing_saved(api, pasted, files, field, message):
    if pasted == "PRIVATE":
        pasted = private_and_public("EC", "P-256")[0].export_private()
    elif pasted == "RSA2048":
        pasted = json.dumps(public_jwk("RSA", 2048))
    browser = signed_in(api)
    browser.get("/console/profile")
    refused = browser.post_files("/console/profile/key", {"recipient_jwk": pasted}, files)
    assert refused.status_code == 422
    assert error_beside(refused, field).startswith(message)
    assert f">{escape(pasted)}</textarea>" in refused.text
    assert me(api)["recipient_jwk"] is None


def test_removing_the_key_asks_first_and_then_removes_it(api):
    browser = signed_in(api)
    browser.get("/console/profile")
    browser.post("/console/profile/key", {"recipient_jwk": json.dumps(public_jwk())})
    thumbprint = re.search(r'<code id="thumbprint">([^<]+)</code>', browser.page.text).group(1)
    question = browser.get("/console/profile/key/remove")
    assert question.status_code == 200 and thumbprint in question.text
    assert me(api)["recipient_jwk"] is not None  # opening the question removes nothing
    done = browser.post("/console/profile/key/remove", {})
    assert done.path == "/console/profile?done=key_removed" and "Your key has been removed." in text_of(done.text)
    assert me(api)["recipient_jwk"] is None
    assert browser.get("/console/profile/key/remove", follow=False).headers["Location"] == "/console/profile"


def test_a_person_sees_and_changes_only_their_own_profile(api):
    make_user(email="bob@example.com", name="Bob Builder", phone="+4915100000001")
    browser = signed_in(api, name="Ada Lovelace")
    page = browser.get("/console/profile")
    assert "Bob" not in page.text and "bob@example.com" not in page.text and "+4915100000001" not in page.text
    bob_id = find_user_by_email("bob@example.com").user_id
    save(browser, name="Changed", id=bob_id, user_id=bob_id, email="bob@example.com")
    assert me(api, "bob@example.com")["name"] == "Bob Builder"
    assert me(api)["name"] == "Changed"


FORMS = [
    (
        "/console/password",
        {
            "current_password": STRONG_PASSWORD,
            "new_password": "Another-Horse-7-Battery",
            "password_repeat": "Another-Horse-7-Battery",
        },
    ),
    ("/console/profile", DETAILS),
    ("/console/profile/email", {"new_email": "ada@new.example", "current_password": STRONG_PASSWORD}),
    ("/console/profile/key", {"recipient_jwk": "KEY"}),
    ("/console/profile/key/remove", {}),
]


@pytest.mark.parametrize("path, form", FORMS)
@pytest.mark.parametrize("token", [None, "forged"])
def test_a_form_without_its_token_is_refused_with_403_and_changes_nothing(api, mailbox, path, form, token):
    browser = signed_in(api, name="Before")
    browser.get("/console/profile")
    browser.post("/console/profile/key", {"recipient_jwk": json.dumps(public_jwk())})
    before = me(api)
    browser.get("/console/profile")
    sent = {name: json.dumps(public_jwk("EC", "P-384")) if value == "KEY" else value for name, value in form.items()}
    refused = browser.post(path, sent, csrf=token)
    assert refused.status_code == 403
    assert me(api) == before
    assert mailbox.messages() == []
    api.login("ada@example.com", STRONG_PASSWORD)


@pytest.mark.parametrize("token", [None, "forged"])
def test_an_upload_without_its_token_is_refused_with_403_and_changes_nothing(api, token):
    browser = signed_in(api)
    browser.get("/console/profile")
    refused = browser.post_files(
        "/console/profile/key", {}, {"recipient_jwk_file": ("me.jwk", json.dumps(public_jwk()).encode())}, csrf=token
    )
    assert refused.status_code == 403
    assert me(api)["recipient_jwk"] is None


def test_the_forgot_form_without_its_token_is_refused_and_sends_nothing(api, mailbox):
    make_user(email="ada@example.com")
    browser = Browser(api.client)
    browser.get("/console/forgot")
    assert browser.post("/console/forgot", {"email": "ada@example.com"}, csrf=None).status_code == 403
    run_queued_jobs()
    assert mailbox.messages() == []


def test_the_profile_pages_need_a_session(api):
    browser = Browser(api.client)
    for path in ("/console/profile", "/console/profile/key/remove"):
        page = browser.get(path, follow=False)
        assert (page.status_code, page.headers["Location"]) == (303, f"/console/login?next={path}")


def test_an_uploaded_key_wins_over_a_pasted_one(api):
    browser = signed_in(api)
    pasted, uploaded = public_jwk("EC", "P-256"), public_jwk("EC", "P-384")
    browser.get("/console/profile")
    browser.post_files(
        "/console/profile/key",
        {"recipient_jwk": json.dumps(pasted)},
        {"recipient_jwk_file": ("me.jwk", json.dumps(uploaded).encode())},
    )
    assert me(api)["recipient_jwk"]["x"] == uploaded["x"]


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("multipart/form-data", b"no boundary, no parts"),
        (
            "multipart/form-data; boundary=b",
            b'--b\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n\xff\xfe\r\n--b--',
        ),
    ],
)
def test_a_multipart_body_that_is_no_form_is_refused_like_a_form_without_its_token(api, content_type, body):
    browser = signed_in(api)
    browser.get("/console/profile")
    headers = {"Content-Type": content_type, "Origin": get_settings().public_base_url}
    refused = browser._send("POST", "/console/profile/key", body, headers, True)
    assert refused.status_code == 403
