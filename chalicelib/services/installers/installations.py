"""Installers register a customer's device by its ID code + MAC: the device is reserved and the customer mailed."""

import functools
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, Dict, List, Optional, Tuple, Union

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib import clock, models
from chalicelib.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from chalicelib.fields import iso_time, normalize_email
from chalicelib.mail import public_link, send_mail
from chalicelib.models import (
    DeviceModel,
    InstallationModel,
    OneTimeTokenModel,
    OrganizationModel,
    SiteModel,
    UserModel,
    time_ordered_key,
)
from chalicelib.paging import binding, page_chain
from chalicelib.permissions import CUSTOMER, DEVICES_REGISTER, INSTALLATIONS_READ, Principal, require
from chalicelib.security import derived_id, hash_password, new_id, new_temporary_password, new_token, token_hash
from chalicelib.services.audit.record import record_event
from chalicelib.services.devices.catalog import get_device, id_proof
from chalicelib.services.devices.claims import ownership_actions
from chalicelib.services.devices.import_rows import ID_CODE_MIN, RowInvalid, normalize_code, normalize_mac
from chalicelib.services.tenants.bootstrap import ROOT_ORG_ID
from chalicelib.services.tenants.orgs import get_org, listed_org_ids, org_id_in_scope, org_in_scope
from chalicelib.services.tenants.users import delete_user_record, find_user_by_email, get_user, insert_user
from chalicelib.services.throttle import count_failure, hit, refuse_when_exhausted

STATES = ("PENDING", "ACTIVE", "CANCELLED", "EXPIRED")
ACTIVATION_DAYS = 14
# Failed device checks in 15 minutes: per account and per MAC (the device guessed at: its 4+ symbol ID code is
# the secret), and far more per source address, which a whole office behind one NAT shares.
FAILED_CHECKS_WINDOW = 15 * 60
FAILED_CHECKS_PER_ACCOUNT, FAILED_CHECKS_PER_DEVICE, FAILED_CHECKS_PER_SOURCE = 10, 10, 100
RESENDS_PER_HOUR = 5
CREATIONS_PER_HOUR = 30  # per installer account: enough for a busy day, too few to sweep addresses


class InstallationNotFound(NotFound):
    code, message = "installation_not_found", "No such installation."


class NoDeviceMatch(NotFound):
    """One answer for an unknown pair, a typo and an ambiguous pair: it tells nothing about other devices."""

    code, message = "device_not_found", "No device has this ID code and MAC address."


class DeviceUnavailable(Conflict):
    code, message = "device_unavailable", "The device is claimed or reserved for another installation already."


class InstallationClosed(Conflict):
    code, message = "installation_closed", "The installation is no longer pending (activated or cancelled)."


def installation_view(
    installation: InstallationModel, device: Optional[DeviceModel] = None, installer: Optional[OrganizationModel] = None
) -> Dict[str, Any]:
    """An installation as installer and customer see it, with its device's state (never its keys or codes)."""
    installer = installer or get_org(installation.installer_org_id)
    return {
        "id": installation.installation_id,
        "state": installation.state,
        "serial": installation.serial,
        "product_type": installation.product_type,
        "installer_org_id": installation.installer_org_id,
        "installer_name": installer.name if installer else None,
        "customer_org_id": installation.customer_org_id,
        "customer_user_id": installation.customer_user_id,
        "customer": dict(installation.customer),
        "web_address": installation.web_address,
        "site_id": installation.site_id,
        "device": {
            "serial": device.serial,
            "product_type": device.product_type,
            "claim_status": device.claim_status,
            "site_id": device.site_id,
        }
        if device
        else None,
        "created_at": iso_time(installation.created_at),
        "activation_expires_at": iso_time(installation.activation_expires_at),
        "activated_at": iso_time(installation.activated_at),
        "ended_at": iso_time(installation.ended_at),
    }


def matching_device(principal: Principal, id_code: str, mac: str, source_ip: Optional[str]) -> DeviceModel:
    """The one device with this ID code and MAC; NoDeviceMatch otherwise. Failures count against the account and
    the MAC (rate limited after 10 in 15 minutes: an ID code is short enough to be guessed) and the source address
    (after 100: one person's typos must not lock an office behind one address)."""
    subjects = [
        ("installation_check_failed", principal.user_id, FAILED_CHECKS_PER_ACCOUNT),
        ("installation_check_device", _mac_key(mac), FAILED_CHECKS_PER_DEVICE),
        ("installation_check_source", source_ip or "-", FAILED_CHECKS_PER_SOURCE),
    ]
    refuse_when_exhausted(subjects, FAILED_CHECKS_WINDOW, "Too many device checks failed; try again later.")
    try:
        proof = id_proof(normalize_code(id_code, "id_code", ID_CODE_MIN), normalize_mac(mac))
        matches = list(DeviceModel.id_proof_index.query(proof, limit=2))
    except RowInvalid:
        proof, matches = None, []
    # Two devices with one pair is a data error of the maker: neither is handed out on that proof.
    device = get_device(matches[0].serial) if len(matches) == 1 else None
    if device is None or device.id_proof != proof:
        count_failure(subjects, FAILED_CHECKS_WINDOW)
        record_event(
            principal.user_id, "installation_check_failed", principal.org_id, detail={"ambiguous": len(matches) > 1}
        )
        raise NoDeviceMatch()
    return device


def _mac_key(mac: str) -> str:
    """The device a check aims at, in one notation whatever was typed (the raw text if it is no MAC)."""
    try:
        return normalize_mac(mac)
    except RowInvalid:
        return str(mac)[:64]


def check_installation(principal: Principal, fields: Dict[str, Any], source_ip: Optional[str] = None) -> Dict[str, Any]:
    """Which device an ID code and MAC name, and the customer data of its pending installation by this installer."""
    require(principal, DEVICES_REGISTER)
    device = matching_device(principal, fields["id_code"], fields["mac"], source_ip)
    pending = _own_pending(principal, device)
    if device.claim_status != "UNCLAIMED" and pending is None:
        raise DeviceUnavailable()
    return {
        "serial": device.serial,
        "product_type": device.product_type,
        "claim_status": device.claim_status,
        "installation_id": pending.installation_id if pending else None,
        "customer": dict(pending.customer) if pending else None,
    }


def _own_pending(principal: Principal, device: DeviceModel) -> Optional[InstallationModel]:
    """The PENDING installation the device is reserved for, if the principal's organization registered it."""
    if device.claim_status != "PENDING" or not device.installation_id:
        return None
    try:
        installation = InstallationModel.get(device.installation_id, consistent_read=True)
    except DoesNotExist:
        return None
    if installation.state != "PENDING" or not org_id_in_scope(principal, installation.installer_org_id):
        return None
    return installation


def create_installation(
    principal: Principal, fields: Dict[str, Any], source_ip: Optional[str] = None
) -> Dict[str, Any]:
    """Reserve an UNCLAIMED device (PENDING) for a customer and mail the customer; 30 an hour per installer.

    Every customer gets one mail, `activation`: a new account has a password nobody knows until its owner
    chooses one on the activation page (one password path, no temporary password mailed beside the link).
    The answer tells nothing about who else holds the address: the installer's own customer (one its organization
    registered a device for before) gets the installation bound to its account; every other address answers as a
    new one (a new customer organization and user id). For an unknown address that is what happens. An address of
    somebody else's account (another installer's customer, staff, an operator) gets the activation mail too: the
    installation stays open, and only if that account is an active customer does its owner's activation bind it
    to their account (see activations); otherwise the link is dead and the installation expires, the device
    freed."""
    require(principal, DEVICES_REGISTER)
    installer = org_in_scope(principal, principal.org_id)
    hit("installation_created", principal.user_id, limit=CREATIONS_PER_HOUR, window_seconds=3600)
    device = matching_device(principal, fields["id_code"], fields["mac"], source_ip)
    if device.claim_status != "UNCLAIMED":
        raise DeviceUnavailable()
    customer = _customer_fields(fields["customer"])
    holder = find_user_by_email(customer["email"])
    known = holder if _served_by(installer.org_id, holder) else None
    taken = holder is not None and known is None  # someone else's address: answered as a new one
    now = clock.now()
    # For somebody else's address the ids are derived from installer and address, so a second installation for
    # it answers as a second one for a new customer does: the same organization and user ids.
    org_id, user_id = _provisional_ids(installer.org_id, customer["email"]) if taken else (new_id("org"), new_id("usr"))
    provisional = get_org(org_id) if taken else None
    customer_org = (
        OrganizationModel.get(known.org_id, consistent_read=True)
        if known
        else provisional or _customer_org(principal, org_id, customer["name"], now)
    )
    site, site_id = _site(principal, fields, customer_org.org_id, known is not None, now)
    installation = InstallationModel(
        new_id("ins"),
        state="PENDING",
        serial=device.serial,
        product_type=device.product_type,
        installer_org_id=installer.org_id,
        installer_user_id=principal.user_id,
        customer_org_id=customer_org.org_id,
        customer_user_id=known.user_id if known else user_id,
        customer=customer,
        web_address=fields.get("web_address"),
        site_id=site_id,
        created_at=now,
        activation_expires_at=now + timedelta(days=ACTIVATION_DAYS),
    )
    installation.created_key = time_ordered_key(now, installation.installation_id)
    token = new_token()
    installation.activation_token_hash = token_hash(token)

    def reserve(transaction: TransactWrite) -> None:
        if known is None and provisional is None:
            transaction.save(customer_org, condition=OrganizationModel.org_id.does_not_exist())
        if site is not None:
            transaction.save(site, condition=SiteModel.site_id.does_not_exist())
        transaction.save(installation, condition=InstallationModel.installation_id.does_not_exist())
        transaction.save(
            _activation_token(installation, token, now), condition=OneTimeTokenModel.token_hash.does_not_exist()
        )
        transaction.update(
            device,
            actions=ownership_actions(device, customer_org.org_id, "PENDING", now)
            + [DeviceModel.installation_id.set(installation.installation_id)],
            condition=(DeviceModel.claim_status == "UNCLAIMED") & (DeviceModel.id_proof == device.id_proof),
        )

    user = known or holder
    try:
        if known is None and not taken:
            user = insert_user(
                email=customer["email"],
                name=customer["name"],
                org_id=customer_org.org_id,
                # Told to nobody: the owner chooses the password on the activation page (must_change_password).
                password=new_temporary_password(),
                roles=[CUSTOMER],
                must_change_password=True,
                language=fields.get("language", "en"),
                phone=customer.get("phone"),
                created_by=principal.user_id,
                user_id=installation.customer_user_id,
                also=reserve,
            )
        else:
            if taken and provisional is None:  # a new account's argon2 work, so the time tells nothing either
                hash_password(new_temporary_password())
            with TransactWrite(connection=models.connection()) as transaction:
                reserve(transaction)
    except TransactWriteError:  # the device was reserved or claimed meanwhile
        raise DeviceUnavailable() from None
    assert user is not None  # the known customer, the address's holder, or the account just made
    try:
        mails = _mail_customer(installation, installer, user, token)
    except DomainError:  # a customer who never hears of it could not activate: take it all back
        _undo(installation, None if known or taken else user, None if known or provisional else customer_org, site)
        raise
    if taken:
        assert holder is not None  # taken: the address has an account
        record_event(
            principal.user_id,
            "installation_for_foreign_address",
            ROOT_ORG_ID,
            target=installation.installation_id,
            detail={"installer_org_id": installer.org_id, "holder_user_id": holder.user_id},
        )
    record_event(
        principal.user_id,
        "installation_created",
        installer.org_id,
        target=installation.installation_id,
        detail={
            "serial": device.serial,
            "customer_org_id": customer_org.org_id,
            "new_customer": not known,
            "mails": mails,
        },
    )
    return {
        "installation_id": installation.installation_id,
        "customer_user_id": installation.customer_user_id,
        "customer_org_id": customer_org.org_id,
        "mails_sent": mails,
        "installation": installation_view(installation, get_device(device.serial), installer),
    }


def _served_by(installer_org_id: str, user: Optional[UserModel]) -> bool:
    """Whether the account is an active customer the installer's organization registered a device for before (it
    knows their ids already); a customer's organization has few installations, so the filter reads little."""
    if user is None or CUSTOMER not in user.roles or user.status != "ACTIVE" or get_org(user.org_id) is None:
        return False
    return any(
        True
        for _ in InstallationModel.customer_index.query(
            user.org_id, filter_condition=InstallationModel.installer_org_id == installer_org_id
        )
    )


def open_customer(installation: InstallationModel) -> Optional[UserModel]:
    """For an installation bound to no account yet (made for somebody else's address): the account that may
    activate it, which is the address's holder if that is an active customer; None otherwise."""
    holder = find_user_by_email(installation.customer["email"])
    if holder is None or CUSTOMER not in holder.roles or holder.status != "ACTIVE":
        return None
    return holder


def _activation_token(installation: InstallationModel, token: str, now: datetime) -> OneTimeTokenModel:
    """The stored side of an activation link: the token's hash, the customer, the installation, the expiry."""
    return OneTimeTokenModel(
        token_hash(token),
        purpose="activation",
        user_id=installation.customer_user_id,
        target_id=installation.installation_id,
        created_at=now,
        expires_at=installation.activation_expires_at,
        ttl=installation.activation_expires_at + timedelta(days=1),
    )


def _customer_fields(raw: Dict[str, Any]) -> Dict[str, Any]:
    customer = {"email": normalize_email(raw["email"]), "name": raw["name"].strip()}
    for key in ("phone", "address"):
        if raw.get(key):
            customer[key] = raw[key].strip()
    return customer


def _provisional_ids(installer_org_id: str, email: str) -> Tuple[str, str]:
    """The organization and user ids an installer's installations for somebody else's address carry."""
    return (
        derived_id("org", "provisional-customer-org", installer_org_id, email),
        derived_id("usr", "provisional-customer-user", installer_org_id, email),
    )


def _customer_org(principal: Principal, org_id: str, name: str, now: datetime) -> OrganizationModel:
    """A new customer's own organization, beside (not below) the installer: several installers may serve it."""
    root = OrganizationModel.get(ROOT_ORG_ID, consistent_read=True)
    return OrganizationModel(
        org_id,
        name=name,
        name_lower=name.lower(),
        parent_id=root.org_id,
        path=f"{root.path}{org_id}/",
        can_create_orgs=False,
        created_at=now,
        created_by=principal.user_id,
        updated_at=now,
    )


def _site(
    principal: Principal, fields: Dict[str, Any], org_id: str, known: bool, now: datetime
) -> Tuple[Optional[SiteModel], Optional[str]]:
    """(a new site to store, the installation's site id): a new site of the customer ({name, address}), or an
    existing site of a known customer (site_id)."""
    site: Optional[SiteModel]
    if fields.get("site"):
        site = SiteModel(
            new_id("site"),
            org_id=org_id,
            name=fields["site"]["name"],
            address=fields["site"].get("address"),
            created_at=now,
            created_by=principal.user_id,
        )
        return site, site.site_id
    if fields.get("site_id"):
        try:
            site = SiteModel.get(fields["site_id"], consistent_read=True)
        except DoesNotExist:
            site = None
        if not known or site is None or site.org_id != org_id:
            raise ValidationFailed(
                "site_id: not a site of this customer.",
                details=[{"field": "site_id", "problem": "names no site of the customer"}],
            )
        return None, site.site_id
    return None, None


def _mail_customer(
    installation: InstallationModel,
    installer: OrganizationModel,
    user: Union[UserModel, SimpleNamespace],
    token: str,
) -> List[str]:
    """The customer's one mail: the activation link (where a new account's owner chooses the password)."""
    send_mail(
        "activation",
        user.email,
        user.language,
        installation.customer_org_id,
        {
            "recipient_name": installation.customer["name"],
            "installer_name": installer.name,
            "device_serial": installation.serial,
            "link": public_link(f"/activate/{token}"),
            "valid_days": ACTIVATION_DAYS,
        },
    )
    return ["activation"]


def _freeing(device: DeviceModel, now: datetime) -> List[Action]:
    """The update actions that release a device reserved for an installation: UNCLAIMED, nobody's."""
    return ownership_actions(device, None, "UNCLAIMED", now) + [DeviceModel.installation_id.remove()]


def _undo(
    installation: InstallationModel,
    new_user: Optional[UserModel],
    new_org: Optional[OrganizationModel],
    site: Optional[SiteModel],
) -> None:
    device = get_device(installation.serial)
    device.update(
        actions=_freeing(device, clock.now()), condition=DeviceModel.installation_id == installation.installation_id
    )
    installation.delete()
    for item in (site, new_org):
        if item is not None:
            item.delete()
    if new_user is not None:
        delete_user_record(new_user)


def _visible(principal: Principal, installation_id: str) -> InstallationModel:
    """The installation if the principal's scope holds its installer or its customer; InstallationNotFound
    otherwise (before any role check, so a foreign id answers the same to everybody)."""
    try:
        installation = InstallationModel.get(installation_id, consistent_read=True)
    except DoesNotExist:
        raise InstallationNotFound() from None
    if not (
        org_id_in_scope(principal, installation.installer_org_id)
        or org_id_in_scope(principal, installation.customer_org_id)
    ):
        raise InstallationNotFound()
    require(principal, INSTALLATIONS_READ)
    if not _on_own_sites(principal, installation):
        raise InstallationNotFound()
    return installation


def _on_own_sites(principal: Principal, installation: InstallationModel) -> bool:
    return not principal.site_limited or installation.site_id in principal.site_ids


def read_installation(principal: Principal, installation_id: str) -> Dict[str, Any]:
    """One installation of the installer's or the customer's organization, with its device."""
    installation = _visible(principal, installation_id)
    return installation_view(installation, get_device(installation.serial))


def list_installations(
    principal: Principal,
    org_id: Optional[str] = None,
    state: Optional[str] = None,
    limit: int = 50,
    cursor: Optional[str] = None,
) -> Dict[str, Any]:
    """What an installer registered, or a customer's own installations, with their devices (oldest first)."""
    org_ids = None if principal.is_operator and not org_id else listed_org_ids(principal, org_id)
    require(principal, INSTALLATIONS_READ)
    if org_ids is None:
        queries = [
            functools.partial(InstallationModel.state_index.query, each) for each in ([state] if state else STATES)
        ]
    else:
        wanted = InstallationModel.state == state if state else None
        queries = []
        for each in org_ids:
            queries += [
                functools.partial(InstallationModel.installer_index.query, each, None, wanted),
                functools.partial(InstallationModel.customer_index.query, each, None, wanted),
            ]
    select = (
        (lambda found: [(item, item) for item in found if _on_own_sites(principal, item)])
        if principal.site_limited
        else None
    )
    items, next_cursor = page_chain(
        queries,
        limit,
        cursor,
        select=select,
        bound_to=binding(principal.user_id, "installations", org_id=org_id, state=state),
    )
    devices = {
        device.serial: device
        for device in DeviceModel.batch_get(
            {item.serial for item in items}, attributes_to_get=["serial", "product_type", "claim_status", "site_id"]
        )
    }
    installers = {org.org_id: org for org in OrganizationModel.batch_get({item.installer_org_id for item in items})}
    return {
        "items": [
            installation_view(item, devices.get(item.serial), installers.get(item.installer_org_id)) for item in items
        ],
        "next_cursor": next_cursor,
    }


def _installers_own(principal: Principal, installation_id: str) -> InstallationModel:
    """The installation if the principal's organization registered it and may register devices;
    InstallationNotFound outside the principal's scope, Forbidden to anyone in it but its installer."""
    installation = _visible(principal, installation_id)
    if not (principal.may(DEVICES_REGISTER) and org_id_in_scope(principal, installation.installer_org_id)):
        raise Forbidden("Only the installer who registered it manages an installation.")
    return installation


def cancel_installation(principal: Principal, installation_id: str) -> Dict[str, Any]:
    """The installer withdraws a PENDING installation: the device is UNCLAIMED again and the link stops working."""
    installation = _installers_own(principal, installation_id)
    if not _close(installation, "CANCELLED", principal.user_id, InstallationModel.state == "PENDING"):
        raise InstallationClosed()
    record_event(
        principal.user_id,
        "installation_cancelled",
        installation.installer_org_id,
        target=installation_id,
        detail={"serial": installation.serial},
    )
    installation.refresh(consistent_read=True)
    return installation_view(installation, get_device(installation.serial))


def resend_activation(principal: Principal, installation_id: str) -> Dict[str, Any]:
    """Mail the customer a new activation link, valid 14 days from now; the link before it stops working.
    The installer who registered it, while PENDING; 5 an hour."""
    installation = _installers_own(principal, installation_id)
    if installation.state != "PENDING":
        raise InstallationClosed()
    user = get_user(installation.customer_user_id)
    if user is not None and user.status != "ACTIVE":  # an account this installer made or served: no secret
        raise InstallationClosed("The customer's account is disabled; cancel the installation instead.")
    # Bound to no account yet (somebody else's address): mailed to the address, answered as any other resend.
    recipient = (
        user
        or find_user_by_email(installation.customer["email"])
        or SimpleNamespace(email=installation.customer["email"], language="en")
    )
    hit("activation_resend", installation_id, limit=RESENDS_PER_HOUR, window_seconds=3600)
    now = clock.now()
    previous: Dict[str, Any] = {
        "hash": installation.activation_token_hash,
        "expires": installation.activation_expires_at,
    }
    token = new_token()
    installation.activation_expires_at = now + timedelta(days=ACTIVATION_DAYS)
    switch: List[Action] = [
        InstallationModel.activation_token_hash.set(token_hash(token)),
        InstallationModel.activation_expires_at.set(installation.activation_expires_at),
    ]
    try:
        with TransactWrite(connection=models.connection()) as transaction:
            transaction.save(
                _activation_token(installation, token, now), condition=OneTimeTokenModel.token_hash.does_not_exist()
            )
            transaction.update(installation, actions=switch, condition=InstallationModel.state == "PENDING")
    except TransactWriteError:
        raise InstallationClosed("The installation changed meanwhile; reload it.") from None
    installer = OrganizationModel.get(installation.installer_org_id, consistent_read=True)
    try:
        _mail_customer(installation, installer, recipient, token)
    except DomainError:  # the customer never got the new link: the old one stays the live one
        installation.update(
            actions=[
                InstallationModel.activation_token_hash.set(previous["hash"]),
                InstallationModel.activation_expires_at.set(previous["expires"]),
            ]
        )
        raise
    record_event(
        principal.user_id,
        "installation_activation_resent",
        installation.installer_org_id,
        target=installation_id,
        detail={"serial": installation.serial},
    )
    installation.refresh(consistent_read=True)
    return installation_view(installation, get_device(installation.serial), installer)


def _close(installation: InstallationModel, state: str, actor_id: str, condition: Condition) -> bool:
    """End a PENDING installation (CANCELLED, EXPIRED) and free its device, in one transaction; False if it was
    no longer pending."""
    device, now = get_device(installation.serial), clock.now()
    try:
        with TransactWrite(connection=models.connection()) as transaction:
            transaction.update(
                installation,
                actions=[
                    InstallationModel.state.set(state),
                    InstallationModel.ended_at.set(now),
                    InstallationModel.ended_by.set(actor_id),
                ],
                condition=condition,
            )
            transaction.update(
                device,
                actions=_freeing(device, now),
                condition=DeviceModel.installation_id == installation.installation_id,
            )
    except TransactWriteError:
        return False
    return True


def expire_installations(now: Optional[datetime] = None) -> Dict[str, int]:
    """Hourly: PENDING installations whose activation link ran out become EXPIRED and free their device (index
    query by creation time, no scan; the exact expiry is the write's condition)."""
    now = now or clock.now()
    cutoff = (now - timedelta(days=ACTIVATION_DAYS)).isoformat()
    read = expired = 0
    for installation in InstallationModel.state_index.query("PENDING", InstallationModel.created_key < cutoff):
        read += 1
        condition = (InstallationModel.state == "PENDING") & (InstallationModel.activation_expires_at < now)
        if _close(installation, "EXPIRED", "scheduler", condition):
            expired += 1
            record_event(
                "scheduler",
                "installation_expired",
                installation.installer_org_id,
                target=installation.installation_id,
                detail={"serial": installation.serial},
            )
    return {"read": read, "expired": expired}
