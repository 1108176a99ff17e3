"""Login lockout under concurrency, on real DynamoDB Local: the attempt is reserved before the password is checked."""

import json
import threading
from concurrent.futures import ThreadPoolExecutor

from chalice.test import Client

from chalicelib.config import get_settings
from chalicelib.errors import AccountLocked, InvalidCredentials
from chalicelib.models import AuditEventModel
from chalicelib.services.accounts import own_account as accounts
from tests.helpers import STRONG_PASSWORD, make_user


def _verifications_counted(monkeypatch):
    """Count the argon2 checks log_in runs (the real check still runs)."""
    counted = []
    real = accounts.verify_password

    def counting(stored, given):
        counted.append(1)
        return real(stored, given)

    monkeypatch.setattr(accounts, "verify_password", counting)
    return counted


def test_twenty_concurrent_wrong_passwords_evaluate_at_most_ten_and_then_the_lock_answers_429(ddb, monkeypatch):
    user = make_user(email="ada@example.com")
    threshold = get_settings().lockout_threshold
    verified = _verifications_counted(monkeypatch)
    barrier = threading.Barrier(20)

    def attempt(_):
        barrier.wait()
        try:
            accounts.log_in("ada@example.com", "Wrong-Passw0rd!")
        except InvalidCredentials:
            return "invalid"
        except AccountLocked as error:
            assert 0 < error.retry_after <= get_settings().lockout_minutes * 60
            return "locked"
        return "logged in"

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(attempt, range(20)))
    failed = [event for event in AuditEventModel.query(user.org_id) if event.action == "login_failed"]
    assert len(verified) <= threshold and len(failed) <= threshold
    assert outcomes.count("invalid") == threshold - 1 and outcomes.count("locked") == 20 - threshold + 1

    import app

    with Client(app.app, stage_name="test") as client:
        right = client.http.post(
            "/auth/login",
            headers={"Content-Type": "application/json"},
            body=json.dumps({"email": "ada@example.com", "password": STRONG_PASSWORD}),
        )
    assert right.status_code == 429 and json.loads(right.body)["error"]["code"] == "account_locked"
    assert 0 < int(right.headers["Retry-After"]) <= get_settings().lockout_minutes * 60
    assert len(verified) <= threshold  # a locked account checks no password at all
