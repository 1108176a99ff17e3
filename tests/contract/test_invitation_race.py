"""Contract tier: one address-less invitation accepted by many at once is spent exactly once."""

import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from chalicelib.errors import DomainError
from chalicelib.models import InvitationModel, UserModel
from chalicelib.services.tenants import invitations
from tests.helpers import STRONG_PASSWORD, make_user

RACERS = 10


def test_ten_concurrent_accepts_of_one_addressless_invitation_with_ten_addresses_create_exactly_one_user(
    ddb, monkeypatch
):
    make_user(email="seed@example.com")  # the root organization exists before the race
    now = datetime.now(timezone.utc)
    invitation = InvitationModel(
        "inv_race",
        org_id="root",
        state="SENT",
        name=None,
        email=None,
        roles=["VIEWER"],
        site_ids=[],
        language="en",
        nonce=secrets.token_urlsafe(16),
        created_by="usr_seed",
        created_at=now,
        expires_at=now + timedelta(days=7),
        lifetime_days=7,
        ttl=now + timedelta(days=97),
    )
    invitation.state_key = f"SENT#{now.isoformat()}"
    invitation.save()
    token = invitations._token(invitation)
    barrier = threading.Barrier(RACERS, timeout=30)
    by_token = invitations._by_token

    def read_then_wait(raw):
        # Every racer has seen the invitation open before any of them writes: only the write's condition decides.
        found = by_token(raw)
        barrier.wait()
        return found

    monkeypatch.setattr(invitations, "_by_token", read_then_wait)

    def accept(index):
        try:
            invitations.accept_invitation(token, {"email": f"racer{index}@example.com", "password": STRONG_PASSWORD})
            return "accepted"
        except DomainError as refusal:
            return refusal.code

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        outcomes = list(pool.map(accept, range(RACERS)))
    assert outcomes.count("accepted") == 1, outcomes
    members = [user.email for user in UserModel.org_index.query("root")]
    assert sorted(members) == sorted(["seed@example.com"] + [f"racer{outcomes.index('accepted')}@example.com"])
    spent = InvitationModel.get("inv_race", consistent_read=True)
    assert spent.state == "ACCEPTED" and spent.accepted_user_id is not None
    assert UserModel.get(spent.accepted_user_id).email == f"racer{outcomes.index('accepted')}@example.com"
