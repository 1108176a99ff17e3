"""One-time tokens sent by mail: issued with a lifetime, stored hashed, spent by a conditional write."""

from datetime import timedelta
from typing import Optional

from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactWrite

from chalicelib import clock
from chalicelib.errors import Gone
from chalicelib.models import OneTimeTokenModel
from chalicelib.security import new_token, token_hash


class TokenInvalid(Gone):
    code = "token_invalid"
    message = "This link is invalid, expired or already used. Ask for a new one."


def issue_token(purpose: str, user_id: str, lifetime: timedelta, new_email: Optional[str] = None) -> str:
    """A fresh token (returned once, for the mail); only its hash is stored."""
    now = clock.now()
    token = new_token()
    OneTimeTokenModel(
        token_hash(token),
        purpose=purpose,
        user_id=user_id,
        new_email=new_email,
        created_at=now,
        expires_at=now + lifetime,
        ttl=now + lifetime + timedelta(days=1),
    ).save(condition=OneTimeTokenModel.token_hash.does_not_exist())
    return token


def live_token(purpose: str, token: str) -> OneTimeTokenModel:
    """The unused, unexpired token of that purpose; TokenInvalid otherwise (one answer for every reason)."""
    if not token or len(token) > 200:
        raise TokenInvalid()
    try:
        item = OneTimeTokenModel.get(token_hash(token), consistent_read=True)
    except DoesNotExist:
        raise TokenInvalid() from None
    # Expiry is decided here: TTL deletion runs up to days late.
    if item.purpose != purpose or item.used_at is not None or clock.now() >= item.expires_at:
        raise TokenInvalid()
    return item


def spend_in(transaction: TransactWrite, item: OneTimeTokenModel) -> None:
    """Add the spending of the token to a transaction: it succeeds once, and only while unexpired."""
    now = clock.now()
    transaction.update(
        item,
        actions=[OneTimeTokenModel.used_at.set(now)],
        condition=OneTimeTokenModel.used_at.does_not_exist() & (OneTimeTokenModel.expires_at > now),
    )
