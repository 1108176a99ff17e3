"""The customer's side of an installation: the mailed activation link shows it; confirming it claims the device."""

import re
from typing import Any, Dict, List, Tuple

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib import clock, models
from chalicelib.errors import ValidationFailed
from chalicelib.fields import PHONE_PATTERN
from chalicelib.models import (
    DeviceModel,
    InstallationModel,
    OneTimeTokenModel,
    OrganizationModel,
    SiteModel,
    UserModel,
)
from chalicelib.security import check_password_policy, hash_password
from chalicelib.services.accounts.mailed_tokens import TokenInvalid, live_token, spend_in
from chalicelib.services.audit.record import record_event
from chalicelib.services.devices.catalog import get_device
from chalicelib.services.devices.claims import ownership_actions
from chalicelib.services.installers.installations import installation_view, open_customer
from chalicelib.services.tenants.orgs import get_org
from chalicelib.services.tenants.users import get_user, user_view

CORRECTABLE = ("name", "phone", "address")


def _pending(token: str) -> Tuple[OneTimeTokenModel, InstallationModel, UserModel]:
    """The live token, its PENDING installation and the customer; TokenInvalid for every other case alike."""
    item = live_token("activation", token)
    try:
        installation = InstallationModel.get(item.target_id or "-", consistent_read=True)
    except DoesNotExist:
        raise TokenInvalid() from None
    # Made for somebody else's address, an installation names no account yet: its address's holder activates it.
    user = get_user(item.user_id) or open_customer(installation)
    if installation.state != "PENDING" or user is None or user.status != "ACTIVE":
        raise TokenInvalid()
    if installation.activation_token_hash and installation.activation_token_hash != item.token_hash:
        raise TokenInvalid()  # a resend retired this link
    return item, installation, user


def view_activation(token: str) -> Dict[str, Any]:
    """What the customer sees behind the link: the device, the installer, and the data the installer entered."""
    item, installation, user = _pending(token)
    installer = get_org(installation.installer_org_id)
    return {
        "installation_id": installation.installation_id,
        "serial": installation.serial,
        "product_type": installation.product_type,
        "installer_name": installer.name if installer else None,
        "web_address": installation.web_address,
        "customer": _shown_customer(installation, user),
        "password_required": bool(user.must_change_password),
        "language": user.language,
        "expires_at": item.expires_at.isoformat(),
    }


def _had_account(installation: InstallationModel, user: UserModel) -> bool:
    """Whether the account existed before this installation (somebody else's address bound at activation, or a
    customer who chose a password already): its profile changes only by what its owner types, never by what an
    installer entered."""
    return user.user_id != installation.customer_user_id or not user.must_change_password


def _shown_customer(installation: InstallationModel, user: UserModel) -> Dict[str, Any]:
    if not _had_account(installation, user):
        return dict(installation.customer)
    return {**installation.customer, "email": user.email, "name": user.name, "phone": user.phone}


def activate_installation(token: str, fields: Dict[str, Any]) -> Dict[str, Any]:
    """Confirm or correct the customer data (and set a password while it is temporary): the installation turns
    ACTIVE, the device is CLAIMED by the customer's organization and the link is spent, in one transaction."""
    item, installation, user = _pending(token)
    email = fields.get("email")
    if email and email.strip().lower() != user.email:
        raise ValidationFailed(
            "email: the address cannot change here; log in and change it in your profile.",
            details=[{"field": "email", "problem": "differs from the account's address"}],
        )
    password = fields.get("password")
    if user.must_change_password and not password:
        raise ValidationFailed(
            "password: choose a password for your new account.",
            details=[{"field": "password", "problem": "is required"}],
        )
    if password and not user.must_change_password:
        raise ValidationFailed(
            "password: your account has a password already; change it in your profile.",
            details=[{"field": "password", "problem": "is not expected"}],
        )
    if password:
        check_password_policy(password)
    if fields.get("phone") and not re.match(PHONE_PATTERN, fields["phone"].strip()):
        raise ValidationFailed(
            "phone: give the number in international form, e.g. +4915123456789.",
            details=[{"field": "phone", "problem": "is not an E.164 number"}],
        )
    customer = {**installation.customer, **{key: fields[key].strip() for key in CORRECTABLE if fields.get(key)}}
    corrected = sorted(key for key in CORRECTABLE if customer.get(key) != installation.customer.get(key))
    now = clock.now()
    device = get_device(installation.serial)
    profile = (
        {key: fields[key].strip() for key in ("name", "phone") if fields.get(key)}
        if _had_account(installation, user)
        else customer
    )
    user_actions: List[Action] = []
    if profile.get("name"):
        user_actions += [UserModel.name.set(profile["name"]), UserModel.name_lower.set(profile["name"].lower())]
    if profile.get("phone"):
        user_actions.append(UserModel.phone.set(profile["phone"]))
    user_actions = user_actions or [UserModel.status.set("ACTIVE")]  # the conditional write still checks the user
    if password:
        user_actions += [
            UserModel.password_hash.set(hash_password(password)),
            UserModel.must_change_password.set(False),
            UserModel.password_changed_at.set(now),
        ]
    # An installation made for an existing customer's address moves from the organization made for it to the
    # customer's own: the holder's activation is their consent to this installer.
    placeholder = installation.customer_org_id if user.org_id != installation.customer_org_id else None
    device_actions = ownership_actions(device, user.org_id, "CLAIMED", now)
    if installation.site_id:
        device_actions.append(DeviceModel.site_id.set(installation.site_id))
    binding: List[Action] = (
        [InstallationModel.customer_org_id.set(user.org_id), InstallationModel.customer_user_id.set(user.user_id)]
        if placeholder
        else []
    )
    try:
        with TransactWrite(connection=models.connection()) as transaction:
            spend_in(transaction, item)
            if placeholder and installation.site_id:
                transaction.update(
                    SiteModel(installation.site_id),
                    actions=[SiteModel.org_id.set(user.org_id)],
                    condition=SiteModel.org_id == placeholder,
                )
            transaction.update(
                installation,
                actions=binding
                + [
                    InstallationModel.state.set("ACTIVE"),
                    InstallationModel.activated_at.set(now),
                    InstallationModel.customer.set(customer),
                ],
                condition=(InstallationModel.state == "PENDING")
                & (
                    InstallationModel.activation_token_hash == item.token_hash
                    if installation.activation_token_hash
                    else InstallationModel.activation_token_hash.does_not_exist()
                ),
            )
            transaction.update(
                device,
                actions=device_actions,
                condition=(DeviceModel.installation_id == installation.installation_id)
                & (DeviceModel.claim_status == "PENDING"),
            )
            still = UserModel.status == "ACTIVE"
            if placeholder:  # and still a customer, as when the link was read
                still = still & UserModel.roles.contains("CUSTOMER")
            transaction.update(user, actions=user_actions, condition=still)
    except TransactWriteError:  # spent, cancelled or changed meanwhile
        raise TokenInvalid() from None
    if placeholder:  # it held the reservation only; nothing else is in it
        OrganizationModel(placeholder).delete()
    record_event(
        user.user_id,
        "installation_activated",
        user.org_id,
        target=installation.installation_id,
        detail={"serial": installation.serial, "corrected": corrected, "password_set": bool(password)},
    )
    record_event(
        user.user_id,
        "device_claimed",
        user.org_id,
        target=installation.serial,
        detail={"proof": "activation", "installation_id": installation.installation_id},
    )
    installation.refresh(consistent_read=True)
    user.refresh(consistent_read=True)
    return {"installation": installation_view(installation, get_device(installation.serial)), "user": user_view(user)}
