"""Invitations into an organization: prepared, sent and resent by mail, accepted once, revoked or expired."""

import functools
import secrets
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, Callable, Dict, Optional

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from chalicelib import clock, models
from chalicelib.config import get_settings
from chalicelib.errors import Conflict, Forbidden, NotFound, RateLimited, ValidationFailed
from chalicelib.fields import iso_time, normalize_email
from chalicelib.mail import public_link, send_mail
from chalicelib.models import InvitationModel, OrganizationModel
from chalicelib.paging import binding, page_chain
from chalicelib.permissions import INVITATIONS_MANAGE, ROLES, Principal, may_grant, require
from chalicelib.security import check_password_policy, keyed_digest, new_id, same_secret
from chalicelib.services.accounts.mailed_tokens import TokenInvalid
from chalicelib.services.audit.record import record_event
from chalicelib.services.tenants.counts import add_counts, invitation_changes, invitations_total
from chalicelib.services.tenants.invitation_retention import retention_end
from chalicelib.services.tenants.orgs import descendant_org_ids, get_org, listed_org_ids, org_in_scope
from chalicelib.services.tenants.user_admin import check_grant
from chalicelib.services.tenants.users import failed_conditions, get_user, insert_user, user_view
from chalicelib.services.throttle import TooManyRequests, hit

EXPIRY_WRITERS = 8

OPEN_STATES = ("CREATED", "SENT")
EXPIRED = "EXPIRED"
MAX_DAYS = 30
RESENDS_PER_HOUR = 5
ACCEPTS_PER_HOUR = 10
EDITABLE = ("name", "email", "roles", "site_ids", "language")


class InvitationNotFound(NotFound):
    code, message = "invitation_not_found", "No such invitation."


class InvitationClosed(Conflict):
    code, message = "invitation_closed", "The invitation is no longer open (accepted, expired or revoked)."


class TooManyResends(RateLimited):
    code = "too_many_resends"
    retry_after = 3600
    message = f"An invitation can be resent {RESENDS_PER_HOUR} times an hour; try again later."


class EmailNeeded(ValidationFailed):
    message = "email: the invitation has no e-mail address to send it to."


def _token(invitation: InvitationModel) -> str:
    return f"{invitation.invitation_id}.{keyed_digest('invitation', invitation.invitation_id, invitation.nonce)}"


def invitation_view(invitation: InvitationModel, with_link: bool = True) -> Dict[str, Any]:
    """An invitation as staff see it; the link while it can still be used (and `with_link`)."""
    open_ = invitation.state in OPEN_STATES
    return {
        "id": invitation.invitation_id,
        "org_id": invitation.org_id,
        "state": invitation.state,
        "name": invitation.name,
        "email": invitation.email,
        "roles": list(invitation.roles),
        "site_ids": list(invitation.site_ids),
        "language": invitation.language,
        "link": public_link(f"/invite/{_token(invitation)}") if with_link and open_ else None,
        "created_at": invitation.created_at.isoformat(),
        "expires_at": invitation.expires_at.isoformat(),
        "sent_at": iso_time(invitation.sent_at),
        "accepted_user_id": invitation.accepted_user_id,
    }


class InvitationBeyondReach(Forbidden):
    code = "invitation_beyond_reach"
    message = "This invitation gives rights you do not have; ask someone who has them."


def _load(principal: Principal, invitation_id: str, to_hand_out: bool = False) -> InvitationModel:
    """The invitation in the principal's scope; `to_hand_out` (send, edit) also needs its grant within reach."""
    try:
        invitation = InvitationModel.get(invitation_id, consistent_read=True)
    except DoesNotExist:
        raise InvitationNotFound() from None
    org_in_scope_or(principal, invitation.org_id, InvitationNotFound)
    if not _within_sites(principal, invitation):
        raise InvitationNotFound()
    require(principal, INVITATIONS_MANAGE)
    if to_hand_out and not _grantable(principal, invitation):
        raise InvitationBeyondReach()
    return invitation


def _within_sites(principal: Principal, invitation: InvitationModel) -> bool:
    return not principal.site_limited or bool(invitation.site_ids and set(invitation.site_ids) <= principal.site_ids)


def _grantable(principal: Principal, invitation: InvitationModel) -> bool:
    # Whoever holds the link becomes the invited user: the link goes only to readers who could grant it.
    return may_grant(principal, invitation.roles, [], invitation.site_ids)


def _staff_view(principal: Principal, invitation: InvitationModel) -> Dict[str, Any]:
    return invitation_view(invitation, with_link=_grantable(principal, invitation))


def org_in_scope_or(principal: Principal, org_id: str, error: Callable[[], Exception]) -> OrganizationModel:
    """The organization in scope, or the given not-found error (objects answer as their own kind)."""
    try:
        return org_in_scope(principal, org_id)
    except NotFound:
        raise error() from None


def invitation_targets(principal: Principal) -> Dict[str, Any]:
    """The organizations the principal may invite into and the roles it may give."""
    org_ids = descendant_org_ids(principal)
    require(principal, INVITATIONS_MANAGE)
    orgs = {org.org_id: org for org in OrganizationModel.batch_get(org_ids)}
    roles = [role for role in ROLES if may_grant(principal, [role], [], principal.site_ids)]
    return {"orgs": [{"id": org_id, "name": orgs[org_id].name} for org_id in org_ids if org_id in orgs], "roles": roles}


def create_invitation(principal: Principal, fields: Dict[str, Any]) -> Dict[str, Any]:
    """Prepare an invitation (CREATED): its link exists, nothing is sent yet."""
    org = org_in_scope(principal, fields.get("org_id") or principal.org_id)
    require(principal, INVITATIONS_MANAGE)
    check_grant(principal, org.org_id, fields["roles"], [], fields.get("site_ids", []))
    now, days = clock.now(), fields.get("valid_days") or _default_days()
    invitation = InvitationModel(
        new_id("inv"),
        org_id=org.org_id,
        state="CREATED",
        name=fields.get("name"),
        email=normalize_email(fields["email"]) if fields.get("email") else None,
        roles=sorted(set(fields["roles"])),
        site_ids=sorted(set(fields.get("site_ids", []))),
        language=fields.get("language", "en"),
        nonce=secrets.token_urlsafe(16),
        created_by=principal.user_id,
        created_at=now,
        expires_at=now + timedelta(days=days),
        lifetime_days=days,
        ttl=retention_end(now + timedelta(days=days)),
    )
    invitation.state_key = invitation.state_key_in("CREATED")
    with TransactWrite(connection=models.connection()) as transaction:
        transaction.save(invitation, condition=InvitationModel.invitation_id.does_not_exist())
        add_counts(transaction, invitation_changes(org.org_id, None, "CREATED"))
    record_event(
        principal.user_id,
        "invitation_created",
        org.org_id,
        target=invitation.invitation_id,
        detail={"roles": invitation.roles, "valid_days": days},
    )
    return invitation_view(invitation)


def _default_days() -> int:
    return min(get_settings().invitation_days, MAX_DAYS)


def list_invitations(
    principal: Principal,
    org_id: Optional[str] = None,
    state: Optional[str] = None,
    limit: int = 50,
    cursor: Optional[str] = None,
) -> Dict[str, Any]:
    """Invitations of one organization in scope, or of the whole scope, optionally of one state, and their total
    over every page (None for a site-limited reader)."""
    org_ids = listed_org_ids(principal, org_id)
    require(principal, INVITATIONS_MANAGE)
    condition = InvitationModel.state_key.startswith(InvitationModel.state_key_prefix(state)) if state else None
    queries = [functools.partial(InvitationModel.org_state_index.query, each, condition) for each in org_ids]
    select = (
        (lambda found: [(item, item) for item in found if _within_sites(principal, item)])
        if principal.site_limited
        else None
    )
    items, next_cursor = page_chain(
        queries,
        limit,
        cursor,
        select=select,
        bound_to=binding(principal.user_id, "invitations", org_id=org_id, state=state),
    )
    return {
        "items": [_staff_view(principal, item) for item in items],
        "next_cursor": next_cursor,
        "total": invitations_total(principal, org_ids, state),
    }


def read_invitation(principal: Principal, invitation_id: str) -> Dict[str, Any]:
    """One invitation in scope (its link only for readers who could grant it)."""
    return _staff_view(principal, _load(principal, invitation_id))


def update_invitation(principal: Principal, invitation_id: str, changes: Dict[str, Any]) -> Dict[str, Any]:
    """Edit name, e-mail, roles, sites or language while the invitation is CREATED or SENT."""
    invitation = _load(principal, invitation_id, to_hand_out=True)
    if invitation.state not in OPEN_STATES:
        raise InvitationClosed()
    if "roles" in changes or "site_ids" in changes:
        check_grant(
            principal,
            invitation.org_id,
            changes.get("roles", invitation.roles),
            [],
            changes.get("site_ids", invitation.site_ids),
        )
    values = {key: value for key, value in changes.items() if key in EDITABLE}
    if values.get("email"):
        values["email"] = normalize_email(values["email"])
    if not values:
        return invitation_view(invitation)
    try:
        invitation.update(
            actions=[getattr(InvitationModel, key).set(value) for key, value in values.items()],
            condition=InvitationModel.state == invitation.state,
        )
    except UpdateError:
        raise InvitationClosed() from None
    record_event(
        principal.user_id,
        "invitation_changed",
        invitation.org_id,
        target=invitation_id,
        detail={"fields": sorted(values)},
    )
    return invitation_view(invitation)


def send_invitation(principal: Principal, invitation_id: str, email: Optional[str] = None) -> Dict[str, Any]:
    """Send the invite mail (CREATED -> SENT); on SENT it is a resend: same link, expiry renewed, 5 an hour."""
    invitation = _load(principal, invitation_id, to_hand_out=True)
    if invitation.state not in OPEN_STATES:
        raise InvitationClosed()
    address = normalize_email(email) if email else invitation.email
    if not address:
        raise EmailNeeded(details=[{"field": "email", "problem": "is required"}])
    now, resend = clock.now(), invitation.state == "SENT"
    if resend:  # counted in the throttle's sliding hour, before the mail: resends are what floods an inbox
        try:
            hit("invitation_resend", invitation.invitation_id, limit=RESENDS_PER_HOUR, window_seconds=3600)
        except TooManyRequests:
            raise TooManyResends() from None
    expires_at = now + timedelta(days=int(invitation.lifetime_days))
    org = get_org(invitation.org_id)
    send_mail(
        "invite",
        address,
        invitation.language,
        invitation.org_id,
        {
            "recipient_name": invitation.name or address,
            "org_name": org.name if org else "",
            "inviter_name": _inviter_name(principal),
            "link": public_link(f"/invite/{_token(invitation)}"),
            "valid_days": int(invitation.lifetime_days),
        },
    )
    # Only after the mail went out: an invitation is never SENT without its mail.
    sent = move_invitation(
        invitation,
        "SENT",
        # The ttl follows the renewed expiry: a resent invitation is kept as long after it as a new one.
        {"email": address, "sent_at": now, "expires_at": expires_at, "ttl": retention_end(expires_at)},
        InvitationModel.state == invitation.state,
    )
    if not sent:
        raise InvitationClosed("The invitation changed while it was being sent; reload it.")
    record_event(
        principal.user_id, "invitation_resent" if resend else "invitation_sent", invitation.org_id, target=invitation_id
    )
    return invitation_view(invitation)


def _inviter_name(principal: Principal) -> str:
    user = get_user(principal.user_id)
    return user.name if user else ""


def revoke_invitation(principal: Principal, invitation_id: str) -> Dict[str, Any]:
    """Revoke an open invitation: its link stops working at once."""
    invitation = _load(principal, invitation_id)
    if invitation.state not in OPEN_STATES:
        raise InvitationClosed()
    if not move_invitation(invitation, "REVOKED", {}, InvitationModel.state == invitation.state):
        raise InvitationClosed()
    record_event(principal.user_id, "invitation_revoked", invitation.org_id, target=invitation_id)
    return invitation_view(invitation)


def move_invitation(
    invitation: InvitationModel,
    state: str,
    values: Dict[str, Any],
    condition: Condition,
    counted_state: Optional[str] = None,
) -> bool:
    """Move an invitation to `state` (and set `values`) under a condition that pins its current state, with the
    count changes in the same transaction; False when the condition failed (nothing changed, no count either).

    `counted_state`: the state the condition pins (default: the state read). A move within a state (a resend)
    changes no count and stays one plain update."""
    values = {**values, "state": state, "state_key": invitation.state_key_in(state)}
    actions = [getattr(InvitationModel, key).set(value) for key, value in values.items()]
    changes = invitation_changes(invitation.org_id, counted_state or invitation.state, state)
    try:
        if not changes:
            invitation.update(actions=actions, condition=condition)
            return True
        with TransactWrite(connection=models.connection()) as transaction:
            transaction.update(invitation, actions=actions, condition=condition)
            add_counts(transaction, changes)
    except UpdateError:
        return False
    except TransactWriteError as error:
        if 0 in failed_conditions(error):  # the invitation's own update (the counters carry no condition)
            return False
        raise
    for key, value in values.items():  # a transaction does not refresh the object as update() does
        setattr(invitation, key, value)
    return True


def _by_token(token: str) -> InvitationModel:
    """The open, unexpired invitation behind a link; TokenInvalid for every other case alike."""
    invitation_id, _, digest = (token or "").partition(".")
    if not invitation_id.startswith("inv_") or not digest or len(token) > 200:
        raise TokenInvalid()
    try:
        invitation = InvitationModel.get(invitation_id, consistent_read=True)
    except DoesNotExist:
        raise TokenInvalid() from None
    if not invitation.nonce or not same_secret(digest, keyed_digest("invitation", invitation_id, invitation.nonce)):
        raise TokenInvalid()
    # The hourly job may not have run yet: expiry is decided here too.
    if invitation.state not in OPEN_STATES or clock.now() >= invitation.expires_at:
        raise TokenInvalid()
    return invitation


def view_invitation(token: str) -> Dict[str, Any]:
    """What the invitee sees before accepting."""
    invitation = _by_token(token)
    org = get_org(invitation.org_id)
    return {
        "name": invitation.name,
        "email": invitation.email,
        "org_name": org.name if org else "",
        "roles": list(invitation.roles),
        "language": invitation.language,
        "expires_at": invitation.expires_at.isoformat(),
    }


def accept_invitation(token: str, fields: Dict[str, Any]) -> Dict[str, Any]:
    """Create the invitee's user in one transaction with spending the invitation; EmailTaken leaves it usable."""
    invitation = _by_token(token)
    # EmailTaken tells the link holder that an address has an account: bound how often one link may ask.
    hit("invitation_accept", invitation.invitation_id, limit=ACCEPTS_PER_HOUR, window_seconds=3600)
    email = invitation.email or (normalize_email(fields["email"]) if fields.get("email") else None)
    if not email:
        raise ValidationFailed(
            "email: this invitation names no address; give yours.",
            details=[{"field": "email", "problem": "is required"}],
        )
    if invitation.email and fields.get("email") and normalize_email(fields["email"]) != invitation.email:
        raise ValidationFailed(
            "email: the invitation is for another address.",
            details=[{"field": "email", "problem": "differs from the invited address"}],
        )
    check_password_policy(fields["password"])
    name = fields.get("name") or invitation.name or email
    now = clock.now()

    def spend(transaction: TransactWrite) -> None:
        # Counted from the state read: the condition holds it (an invitation SENT meanwhile is refused as closed).
        transaction.update(
            invitation,
            actions=[
                InvitationModel.state.set("ACCEPTED"),
                InvitationModel.state_key.set(invitation.state_key_in("ACCEPTED")),
            ],
            condition=(InvitationModel.state == invitation.state) & (InvitationModel.expires_at > now),
        )
        add_counts(transaction, invitation_changes(invitation.org_id, invitation.state, "ACCEPTED"))

    try:
        user = insert_user(
            email=email,
            name=name,
            org_id=invitation.org_id,
            password=fields["password"],
            roles=invitation.roles,
            site_ids=invitation.site_ids,
            must_change_password=False,
            language=fields.get("language") or invitation.language,
            created_by=invitation.created_by,
            also=spend,
        )
    except TransactWriteError:
        raise TokenInvalid() from None
    invitation.update(actions=[InvitationModel.accepted_user_id.set(user.user_id)])
    record_event(
        user.user_id,
        "invitation_accepted",
        invitation.org_id,
        target=invitation.invitation_id,
        detail={"user_id": user.user_id},
    )
    return user_view(user)


def expire_invitations(now: Optional[datetime] = None, page_size: int = 100) -> Dict[str, int]:
    """Move CREATED and SENT invitations past expires_at to EXPIRED (index queries, no scan; idempotent).

    Each expiry is a conditional write plus an audit event: EXPIRY_WRITERS of them run at once (10,000 due
    invitations one at a time took minutes on DynamoDB Local). Answers how many items were read and expired.
    """
    now = now or clock.now()
    read = expired = 0
    with ThreadPoolExecutor(EXPIRY_WRITERS, thread_name_prefix="expire") as pool:
        for state in OPEN_STATES:
            due = InvitationModel.state_expiry_index.query(state, InvitationModel.expires_at < now, page_size=page_size)
            for done in pool.map(functools.partial(_expire_one, state=state, now=now), due):
                read += 1
                expired += done
    return {"read": read, "expired": expired}


def _expire_one(invitation: InvitationModel, state: str, now: datetime) -> bool:
    # The index lags the table: only an invitation still in `state` and still due may expire.
    if not move_invitation(
        invitation, EXPIRED, {}, (InvitationModel.state == state) & (InvitationModel.expires_at < now), state
    ):
        return False
    record_event(
        "scheduler",
        "invitation_expired",
        invitation.org_id,
        target=invitation.invitation_id,
        detail={"previous_state": state},
    )
    return True
