"""Self-registration of installers and system managers, and the operator's approval or rejection."""

import functools
from datetime import datetime
from typing import Any, Dict, Optional

from pynamodb.exceptions import DeleteError, DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib import clock, models
from chalicelib.console_paths import REGISTER, sign_in_path
from chalicelib.errors import Conflict, DomainError, Forbidden, NotFound
from chalicelib.fields import iso_time, normalize_email
from chalicelib.job_queue import enqueue_job
from chalicelib.mail import public_link, send_mail
from chalicelib.models import OrganizationModel, RegistrationEmailModel, RegistrationModel, time_ordered_key
from chalicelib.paging import binding, page_chain
from chalicelib.permissions import INSTALLER, ORG_ADMIN, Principal
from chalicelib.security import new_id, new_temporary_password
from chalicelib.services.audit.record import record_event
from chalicelib.services.tenants.bootstrap import ROOT_ORG_ID
from chalicelib.services.tenants.orgs import list_orgs, org_in_scope
from chalicelib.services.tenants.users import delete_user_record, find_user_by_email, insert_user
from chalicelib.services.throttle import hit

KIND_ROLES = {"installer": INSTALLER, "system_manager": ORG_ADMIN}  # the first user's role per kind
STATES = ("PENDING", "APPROVED", "REJECTED")
PER_ADDRESS_PER_HOUR, PER_SOURCE_PER_HOUR = 3, 20
MAX_PARENTS = 200  # organizations a parent choice lists at once; a name narrows a longer list
RECEIVED = {
    "message": "Thank you. We sent a confirmation to the address you gave; an operator reviews your "
    "registration and answers by e-mail."
}


class RegistrationNotFound(NotFound):
    code, message = "registration_not_found", "No such registration."


class RegistrationDecided(Conflict):
    code, message = "registration_decided", "The registration was approved or rejected already."


def registration_view(registration: RegistrationModel) -> Dict[str, Any]:
    """A registration as the operator sees it."""
    return {
        "id": registration.registration_id,
        "kind": registration.kind,
        "state": registration.state,
        "name": registration.name,
        "email": registration.email,
        "phone": registration.phone,
        "company_name": registration.company_name,
        "company_address": registration.company_address,
        "language": registration.language,
        "created_at": iso_time(registration.created_at),
        "decided_at": iso_time(registration.decided_at),
        "decided_by": registration.decided_by,
        "reason": registration.reason,
        "org_id": registration.org_id,
        "user_id": registration.user_id,
    }


def register(fields: Dict[str, Any], source_ip: Optional[str] = None) -> Dict[str, Any]:
    """Queue a registration (stored PENDING and confirmed by mail in the worker, take_registration).

    The answer is the same in every case, and so is the work done before it (two throttle writes and one queued
    message): neither the answer nor its time tells anybody which addresses have accounts."""
    email = normalize_email(fields["email"])
    hit("registration_source", source_ip or "unknown", limit=PER_SOURCE_PER_HOUR, window_seconds=3600)
    hit("registration_address", email, limit=PER_ADDRESS_PER_HOUR, window_seconds=3600)  # bounds mail to one inbox
    # The id is chosen now, so a message SQS delivers twice stores one registration.
    enqueue_job(
        "registration", {"registration_id": new_id("reg"), "fields": {**fields, "email": email}, "source_ip": source_ip}
    )
    return RECEIVED


def take_registration(registration_id: str, fields: Dict[str, Any], source_ip: Optional[str] = None) -> None:
    """The worker's part: store the registration PENDING and confirm it by mail; a known address only gets a
    mail saying so, an address with an open registration a second confirmation. A failed mail is audited."""
    email, language = fields["email"], fields.get("language", "en")
    variables = {
        "recipient_name": fields["name"],
        "company_name": fields["company_name"],
        "link": public_link(sign_in_path(email, language)),
    }
    mail = functools.partial(_mail_received, email, language, variables)
    if find_user_by_email(email) is not None:
        if mail(account_exists=True):
            record_event("public", "registration_refused", ROOT_ORG_ID, detail={"reason": "account_exists"})
        return
    now = clock.now()
    registration = RegistrationModel(
        registration_id,
        kind=fields["kind"],
        state="PENDING",
        name=fields["name"],
        email=email,
        phone=fields.get("phone"),
        company_name=fields["company_name"],
        company_address=fields.get("company_address"),
        language=language,
        created_at=now,
        source_ip=source_ip,
    )
    registration.created_key = time_ordered_key(now, registration.registration_id)
    try:
        with TransactWrite(connection=models.connection()) as transaction:
            transaction.save(
                RegistrationEmailModel(email, registration_id=registration.registration_id),
                condition=RegistrationEmailModel.email.does_not_exist(),
            )
            transaction.save(registration, condition=RegistrationModel.registration_id.does_not_exist())
    except TransactWriteError:
        if _claim_of(email) == registration_id:  # this message was delivered before and taken then
            return
        # A registration of this address is open already: no second one.
        if mail(account_exists=False):
            record_event("public", "registration_refused", ROOT_ORG_ID, detail={"reason": "registration_open"})
        return
    if not mail(account_exists=False):  # nobody would ever hear of it: take it back, so the person can try again
        _forget_address(registration)
        registration.delete()
        return
    record_event(
        "public",
        "registration_received",
        ROOT_ORG_ID,
        target=registration.registration_id,
        detail={"kind": registration.kind},
    )


def _mail_received(email: str, language: str, variables: Dict[str, Any], account_exists: bool) -> bool:
    """Send `registration_received`; False (audited, nobody waits for an answer) when it cannot be sent."""
    try:
        send_mail("registration_received", email, language, None, {**variables, "account_exists": account_exists})
    except DomainError as error:
        record_event("public", "registration_mail_failed", ROOT_ORG_ID, detail={"code": error.code})
        return False
    return True


def _claim_of(email: str) -> Optional[str]:
    try:
        return RegistrationEmailModel.get(email, consistent_read=True).registration_id
    except DoesNotExist:
        return None


def _operator(principal: Principal) -> None:
    if not principal.is_operator:
        raise Forbidden("Only operators review registrations.")


def _load(principal: Principal, registration_id: str) -> RegistrationModel:
    _operator(principal)
    try:
        return RegistrationModel.get(registration_id, consistent_read=True)
    except DoesNotExist:
        raise RegistrationNotFound() from None


def list_registrations(
    principal: Principal, state: Optional[str] = None, limit: int = 50, cursor: Optional[str] = None
) -> Dict[str, Any]:
    """Registrations of one state (or all, PENDING first), oldest first: the operator's review queue."""
    _operator(principal)
    queries = [functools.partial(RegistrationModel.state_index.query, each) for each in ([state] if state else STATES)]
    items, next_cursor = page_chain(
        queries, limit, cursor, bound_to=binding(principal.user_id, "registrations", state=state)
    )
    return {"items": [registration_view(item) for item in items], "next_cursor": next_cursor}


def read_registration(principal: Principal, registration_id: str) -> Dict[str, Any]:
    """One registration."""
    return registration_view(_load(principal, registration_id))


def approval_choices(principal: Principal, registration_id: str, parent_name: Optional[str] = None) -> Dict[str, Any]:
    """A registration and the organizations its company may be placed below: the operator's tree in tree order
    (depth counted from the shallowest listed), narrowed by a part of the name; `more` when MAX_PARENTS cut it."""
    registration = read_registration(principal, registration_id)
    listed = list_orgs(principal, name=parent_name or None, limit=MAX_PARENTS)
    tree = [org for org in listed["items"] if org["relation"] == "tree"]
    base = min((len(org["path"]) for org in tree), default=0)
    parents = [
        {"id": org["id"], "name": org["name"], "reference": org["reference"], "depth": len(org["path"]) - base}
        for org in tree
    ]
    return {"registration": registration, "parents": parents, "more": listed["next_cursor"] is not None}


def approve_registration(principal: Principal, registration_id: str, fields: Dict[str, Any]) -> Dict[str, Any]:
    """Create the company's organization and its first user (INSTALLER or ORG_ADMIN) with a temporary password,
    mailed in `registration_approved`; the first login must change it. Once only."""
    registration = _load(principal, registration_id)
    if registration.state != "PENDING":
        raise RegistrationDecided()
    parent = org_in_scope(principal, fields.get("parent_id") or ROOT_ORG_ID)
    now, org_id, temporary = clock.now(), new_id("org"), new_temporary_password()
    org = OrganizationModel(
        org_id,
        name=registration.company_name,
        name_lower=registration.company_name.lower(),
        parent_id=parent.org_id,
        path=f"{parent.path}{org_id}/",
        can_create_orgs=False,
        created_at=now,
        created_by=principal.user_id,
        updated_at=now,
    )

    def decide(transaction: TransactWrite) -> None:
        transaction.save(org, condition=OrganizationModel.org_id.does_not_exist())
        transaction.update(
            registration,
            actions=_decision("APPROVED", principal, now) + [RegistrationModel.org_id.set(org_id)],
            condition=RegistrationModel.state == "PENDING",
        )

    try:
        user = insert_user(
            email=registration.email,
            name=registration.name,
            org_id=org_id,
            password=temporary,
            roles=[KIND_ROLES[registration.kind]],
            must_change_password=True,
            language=registration.language,
            phone=registration.phone,
            created_by=principal.user_id,
            also=decide,
        )
    except TransactWriteError:
        raise RegistrationDecided() from None
    registration.update(actions=[RegistrationModel.user_id.set(user.user_id)])
    try:
        send_mail(
            "registration_approved",
            registration.email,
            registration.language,
            org_id,
            {
                "recipient_name": registration.name,
                "company_name": registration.company_name,
                "email": registration.email,
                "temporary_password": temporary,
                "link": public_link(sign_in_path(registration.email, registration.language)),
            },
        )
    except DomainError:  # an account nobody can log in to must not remain: back to PENDING
        delete_user_record(user)
        org.delete()
        registration.update(
            actions=[
                RegistrationModel.state.set("PENDING"),
                RegistrationModel.org_id.remove(),
                RegistrationModel.user_id.remove(),
                RegistrationModel.decided_at.remove(),
                RegistrationModel.decided_by.remove(),
            ]
        )
        raise
    _forget_address(registration)  # the user's e-mail claim guards the address from now on
    record_event(
        principal.user_id,
        "registration_approved",
        org_id,
        target=registration_id,
        detail={"kind": registration.kind, "user_id": user.user_id, "org_id": org_id},
    )
    return registration_view(registration)


def reject_registration(principal: Principal, registration_id: str, reason: str) -> Dict[str, Any]:
    """Refuse a registration with a reason, mailed in `registration_rejected`; the address may register again."""
    registration = _load(principal, registration_id)
    now = clock.now()
    try:
        registration.update(
            actions=_decision("REJECTED", principal, now) + [RegistrationModel.reason.set(reason)],
            condition=RegistrationModel.state == "PENDING",
        )
    except UpdateError:
        raise RegistrationDecided() from None
    try:
        send_mail(
            "registration_rejected",
            registration.email,
            registration.language,
            None,
            {
                "recipient_name": registration.name,
                "company_name": registration.company_name,
                "reason": reason,
                "link": public_link(REGISTER),
            },
        )
    except DomainError:  # the applicant would never learn of it: undecided again
        registration.update(
            actions=[
                RegistrationModel.state.set("PENDING"),
                RegistrationModel.reason.remove(),
                RegistrationModel.decided_at.remove(),
                RegistrationModel.decided_by.remove(),
            ]
        )
        raise
    _forget_address(registration)
    record_event(
        principal.user_id,
        "registration_rejected",
        ROOT_ORG_ID,
        target=registration_id,
        detail={"kind": registration.kind},
    )
    return registration_view(registration)


def _decision(state: str, principal: Principal, now: datetime) -> list:
    return [
        RegistrationModel.state.set(state),
        RegistrationModel.decided_at.set(now),
        RegistrationModel.decided_by.set(principal.user_id),
    ]


def _forget_address(registration: RegistrationModel) -> None:
    """Free the address for a later registration (only the claim this registration holds)."""
    try:
        RegistrationEmailModel(registration.email).delete(
            condition=RegistrationEmailModel.registration_id == registration.registration_id
        )
    except DeleteError:  # another registration's claim by now: leave it
        pass
