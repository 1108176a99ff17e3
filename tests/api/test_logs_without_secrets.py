"""A run through the flows that handle secrets leaves none of them in the logs (at the production level, INFO);
every log line is JSON carrying its request's id."""

import json
import logging
import re

from tests.conftest import run_queued_jobs
from tests.helpers import STRONG_PASSWORD, make_org, make_user

NEW_PASSWORD = "Logged-Never-Passw0rd"
INVITEE_PASSWORD = "Invitee-Secret-Passw0rd"


def test_passwords_tokens_and_links_never_reach_the_logs(api, mailbox, login_as, caplog, capsys):
    caplog.set_level(logging.INFO)
    make_org("acme", reference="INV-SECRET-REF")
    admin = login_as("ORG_ADMIN", org_id="acme", email="boss@example.com")
    secrets = {STRONG_PASSWORD, NEW_PASSWORD, INVITEE_PASSWORD, admin, "INV-SECRET-REF"}

    # A failed and a successful login, a password change, a reset by mail.
    api.call("POST", "/auth/login", {"email": "boss@example.com", "password": "Wrong-" + STRONG_PASSWORD})
    api.call("POST", "/me/password", {"current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD}, token=admin)
    make_user(email="ada@example.com", org_id="acme")
    api.call("POST", "/public/password-resets", {"email": "ada@example.com"})
    run_queued_jobs()
    reset = re.search(r"reset-password/(\S+)", mailbox.text(mailbox.messages(to="ada@example.com")[0])).group(1)
    api.call("POST", f"/public/password-resets/{reset}", {"new_password": NEW_PASSWORD})
    secrets.add(reset)

    # A user with mailed credentials, split delivery over SMS, an invitation accepted through its link.
    api.call(
        "POST",
        "/users",
        {"name": "Kim", "email": "kim@example.com", "roles": ["VIEWER"], "org_id": "acme"},
        token=admin,
    )
    secrets.add(
        re.search(r"Temporary password: (\S+)", mailbox.text(mailbox.messages(to="kim@example.com")[0])).group(1)
    )
    api.call(
        "POST",
        "/users",
        {
            "name": "Sam",
            "email": "sam@example.com",
            "roles": ["VIEWER"],
            "org_id": "acme",
            "phone": "+4915123456789",
            "delivery": "split",
        },
        token=admin,
    )
    secrets.add(mailbox.sms()[0][1].rsplit(" ", 1)[1])
    invitation = api.call(
        "POST", "/invitations", {"org_id": "acme", "roles": ["VIEWER"], "email": "ivy@example.com"}, token=admin
    ).data
    api.call("POST", f"/invitations/{invitation['id']}/send", token=admin)
    link_token = invitation["link"].rsplit("/", 1)[1]
    api.call("POST", f"/public/invitations/{link_token}/accept", {"password": INVITEE_PASSWORD})
    secrets |= {link_token, link_token.split(".", 1)[1]}
    session = api.login("ivy@example.com", INVITEE_PASSWORD)
    api.call("GET", "/me", token=session)
    secrets.add(session)

    # A device import (one good row, one with a bad key), a read, a relabel and a device whose keys fail to unwrap.
    operator = login_as("OPERATOR")
    key, claim, id_code = "8f3a9c0d" * 4, "CLAIMSECRET77", "IDSECRET55"
    rows = (
        f"serial,product_type,mac,id_code,claim_code,labels,key_name,algorithm,key_hex\n"
        f"LOG-1,meter,00:11:22:33:44:55,{id_code},{claim},a,app,AES128,{key}\n"
        f"LOG-2,meter,00:11:22:33:44:56,{id_code}X,{claim}X,a,app,AES256,{key}\n"
    )
    api.call("POST", "/devices/import?org_id=acme", raw=rows, token=operator, headers={"Content-Type": "text/csv"})
    api.call("GET", "/devices/LOG-1", token=operator)
    api.call("PATCH", "/devices/LOG-1", {"labels": ["b"]}, token=admin)
    api.call("POST", "/devices/LOG-1/claim", {"claim_code": claim}, token=admin)
    assert api.call("GET", "/devices/LOG-1/keys", token=admin).data["keys"][0]["hex"] == key
    assert key in api.call("GET", "/devices/keys?format=csv", token=admin).body.decode()
    # An export that succeeds and one whose writing breaks after reading the keys (its error is logged).
    from chalicelib.services.keys import files as key_files
    from tests.conftest import run_queued_exports

    api.call("POST", "/exports", {"format": "csv"}, token=admin)
    run_queued_exports()
    original_close = key_files.KeyFileWriter.close
    key_files.KeyFileWriter.close = lambda self: (_ for _ in ()).throw(ValueError(f"cannot close after {key}"))
    try:
        api.call("POST", "/exports", {"format": "json"}, token=admin)
        run_queued_exports()
    finally:
        key_files.KeyFileWriter.close = original_close
    listed = api.call("GET", "/exports", token=admin).data["items"]
    assert [job["state"] for job in listed] == ["FAILED", "READY"]
    from chalicelib import crypto
    from chalicelib.models import DeviceModel

    device = DeviceModel.get("LOG-1")
    try:
        crypto.unwrap("LOG-2", device.import_id, device.wrapped_keys)
    except crypto.KeyMaterialUnreadable:
        pass
    secrets |= {key, claim, id_code, key.upper()}

    records = caplog.get_records("setup") + caplog.get_records("call")
    printed = capsys.readouterr().out  # the JSON lines as a function writes them
    logged = "\n".join(record.getMessage() for record in records) + caplog.text + printed
    assert "keyport.access" in caplog.text and len(records) > 10 and '"location":"http_edge' in printed
    assert len(secrets) >= 14
    leaked = [secret for secret in secrets if secret in logged]
    assert leaked == []


def test_every_log_line_of_a_request_is_json_carrying_the_id_its_answer_names(api, capsys):
    capsys.readouterr()
    response = api.call("POST", "/auth/login", {"email": "nobody@example.com", "password": "Wrong-" + STRONG_PASSWORD})
    assert response.status_code == 401
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if not line.startswith('{"_aws"')]
    assert [line["message"]["route"] for line in lines if line["location"].startswith("http_edge")] == ["/auth/login"]
    assert {line["request_id"] for line in lines} == {response.headers["X-Request-Id"]}
    assert all(line["service"] == "keyport" and line["level"] in ("INFO", "WARNING", "ERROR") for line in lines)
