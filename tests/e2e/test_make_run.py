"""`make run` as a new user meets it: printed operator, login over HTTP, clean stop, data kept."""

import time
from pathlib import Path
from urllib.parse import urlsplit

import requests

NEW_PASSWORD = "Fresh-Operat0r-Passphrase"


def wait_until_gone(stack, seconds=15):
    deadline = time.monotonic() + seconds
    while stack.processes_left() and time.monotonic() < deadline:
        time.sleep(0.2)
    return stack.processes_left()


def test_make_run_serves_logs_in_the_printed_operator_and_stops_cleanly_keeping_its_data(local_stack):
    stack = local_stack()
    email = stack.printed(r"Operator created: (\S+)")
    password = stack.printed(r"One-time password: (\S+)")
    assert email == "operator@keyport.local" and password, stack.output()
    console = stack.printed(r"Console: (\S+) \(sign in with the operator printed below\)")
    assert console == stack.url + "/console/", stack.output()
    sign_in = requests.get(console, timeout=10)  # not signed in yet: the console leads to its sign-in page
    assert sign_in.status_code == 200 and urlsplit(sign_in.url).path == "/console/login", sign_in.url
    assert "text/html" in sign_in.headers["Content-Type"] and 'name="password"' in sign_in.text

    login = requests.post(stack.url + "/auth/login", json={"email": email, "password": password}, timeout=10)
    assert login.status_code == 200 and login.json()["must_change_password"] is True
    auth = {"Authorization": "Bearer " + login.json()["token"]}
    change = requests.post(
        stack.url + "/me/password",
        headers=auth,
        timeout=10,
        json={"current_password": password, "new_password": NEW_PASSWORD},
    )
    assert change.status_code == 204, change.text
    assert requests.get(stack.url + "/me", headers=auth, timeout=10).json()["must_change_password"] is False
    assert requests.post(stack.url + "/auth/logout", headers=auth, timeout=10).status_code == 204
    assert requests.get(stack.url + "/me", headers=auth, timeout=10).status_code == 401

    stack.stop()
    assert wait_until_gone(stack) == [], "processes left behind"

    again = local_stack()
    assert again.printed(r"One-time password: (\S+)") is None
    assert again.printed(r"Operator: (\S+)") == email
    relogin = requests.post(again.url + "/auth/login", json={"email": email, "password": NEW_PASSWORD}, timeout=10)
    assert relogin.status_code == 200 and relogin.json()["must_change_password"] is False
    again.stop()
    assert wait_until_gone(again) == []


def test_operator_from_the_environment_needs_no_password_change_and_mail_lands_in_the_outbox(local_stack):
    stack = local_stack(KEYPORT_OPERATOR_EMAIL="ops@example.com", KEYPORT_OPERATOR_PASSWORD=NEW_PASSWORD)
    assert stack.printed(r"One-time password: (\S+)") is None
    assert stack.printed(r"Mail templates: (\d+) system defaults loaded") == "63"
    login = requests.post(
        stack.url + "/auth/login", json={"email": "ops@example.com", "password": NEW_PASSWORD}, timeout=10
    )
    assert login.status_code == 200 and login.json()["must_change_password"] is False
    auth = {"Authorization": "Bearer " + login.json()["token"]}
    sent = requests.post(
        stack.url + "/templates/tpl_system_invite_de/test", headers=auth, timeout=10, json={"email": "qa@example.com"}
    )
    assert sent.status_code == 202, sent.text
    [eml] = list((Path(stack.home) / "outbox").glob("*-invite-*.eml"))
    assert b"Subject: Einladung zu Stadtwerke Musterstadt bei keyport" in eml.read_bytes()
    deadline = time.monotonic() + 5
    while "[mail]   https://keyport.example/invite/SAMPLE-TOKEN" not in stack.output() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "[mail]   https://keyport.example/invite/SAMPLE-TOKEN" in stack.output()
