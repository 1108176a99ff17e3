"""Ownership of devices: claim with a code or ID code + MAC, release, take-ownership; one conditional write each."""

from datetime import datetime
from typing import Any, Dict, List, Optional, Tuple

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action

from chalicelib import clock
from chalicelib.errors import Conflict, Forbidden, Gone, NotFound
from chalicelib.models import DeviceModel
from chalicelib.observability import count_metric
from chalicelib.permissions import DEVICES_CLAIM, KEY_MANAGER, ORG_ADMIN, TAKE_OWNERSHIP, Principal, require
from chalicelib.security import same_secret
from chalicelib.services.audit.record import record_event
from chalicelib.services.devices.catalog import (
    claim_code_digest,
    device_view,
    get_device,
    id_proof,
    visible_device,
)
from chalicelib.services.devices.import_rows import (
    CLAIM_CODE_MIN,
    ID_CODE_MIN,
    RowInvalid,
    normalize_code,
    normalize_mac,
)
from chalicelib.services.tenants.orgs import org_id_in_scope, org_in_scope
from chalicelib.services.throttle import count_failure, refuse_when_exhausted

FAILED_CLAIMS_LIMIT, FAILED_CLAIMS_WINDOW = 10, 15 * 60


class ClaimProofInvalid(NotFound):
    """Unknown serial and wrong proof answer alike, so the route tells nothing about which serials exist."""

    code, message = "claim_invalid", "No device with this serial accepts this proof."


class AlreadyClaimed(Conflict):
    code, message = "already_claimed", "The device is claimed already."


class ClaimCodeExpired(Gone):
    code, message = "claim_code_expired", "The claim code is outside its validity window."


class ClaimCodeSpent(Gone):
    code = "claim_code_spent"
    message = "The claim code was used already; ask the maker for a new one, or claim with the ID code and MAC."


class NotOwner(Conflict):
    code, message = "device_not_owned", "The device is not owned by an organization you act for."


def _throttle_subjects(principal: Principal, serial: str) -> List[tuple]:
    return [
        ("claim_failed_device", serial, FAILED_CLAIMS_LIMIT),
        ("claim_failed_account", principal.user_id, FAILED_CLAIMS_LIMIT),
    ]


def claim_device(principal: Principal, serial: str, proof: Dict[str, Any]) -> Dict[str, Any]:
    """Claim an UNCLAIMED device for the actor's organization (or `org_id` in scope) with its claim code, or
    its ID code and MAC. Failures count against the device and the account: rate limited after 10 in 15 minutes."""
    owner = org_in_scope(principal, proof.get("org_id") or principal.org_id)
    require(principal, DEVICES_CLAIM)
    subjects = _throttle_subjects(principal, serial)
    refuse_when_exhausted(subjects, FAILED_CLAIMS_WINDOW, "Too many failed claims; try again later.")
    try:
        device, used_code = _proven(serial, proof)
    except ClaimProofInvalid:
        count_failure(subjects, FAILED_CLAIMS_WINDOW)
        record_event(principal.user_id, "device_claim_failed", owner.org_id, target=serial[:64])
        raise
    now = clock.now()
    actions = ownership_actions(device, owner.org_id, "CLAIMED", now)
    if used_code:  # spent by this claim: a later release does not revive it
        actions += [DeviceModel.claim_code_hash.remove(), DeviceModel.spent_claim_code_hash.set(device.claim_code_hash)]
    try:
        device.update(actions=actions, condition=DeviceModel.claim_status == "UNCLAIMED")
    except UpdateError:
        raise AlreadyClaimed() from None
    record_event(
        principal.user_id,
        "device_claimed",
        owner.org_id,
        target=serial,
        detail={"proof": "claim_code" if used_code else "id_code_mac"},
    )
    count_metric("DevicesClaimed")
    return device_view(get_device(serial))


def _proven(serial: str, proof: Dict[str, Any]) -> Tuple[DeviceModel, bool]:
    """The device and whether its claim code was the proof; ClaimProofInvalid, or the precise refusal once the
    proof itself is shown right (expired, spent, already claimed)."""
    try:
        device = get_device(serial)
    except NotFound:
        raise ClaimProofInvalid() from None
    now = clock.now()
    if proof.get("claim_code"):
        try:
            code = normalize_code(proof["claim_code"], "claim_code", CLAIM_CODE_MIN)
        except RowInvalid:
            raise ClaimProofInvalid() from None
        offered = claim_code_digest(serial, code)
        if device.claim_code_hash and same_secret(offered, device.claim_code_hash):
            if (device.claim_valid_from and now < device.claim_valid_from) or (
                device.claim_valid_to and now > device.claim_valid_to
            ):
                raise ClaimCodeExpired()
            if device.claim_status != "UNCLAIMED":
                raise AlreadyClaimed()
            return device, True
        if device.spent_claim_code_hash and same_secret(offered, device.spent_claim_code_hash):
            raise AlreadyClaimed() if device.claim_status != "UNCLAIMED" else ClaimCodeSpent()
        raise ClaimProofInvalid()
    try:
        offered = id_proof(
            normalize_code(proof.get("id_code") or "", "id_code", ID_CODE_MIN), normalize_mac(proof.get("mac") or "")
        )
    except RowInvalid:
        raise ClaimProofInvalid() from None
    if not device.id_proof or not same_secret(offered, device.id_proof):
        raise ClaimProofInvalid()
    if device.claim_status != "UNCLAIMED":
        raise AlreadyClaimed()
    return device, False


def ownership_actions(device: DeviceModel, owner_org_id: Optional[str], status: str, now: datetime) -> List[Action]:
    """The update actions that give a device this owner (None: nobody) and status, index keys included."""
    keys = DeviceModel.index_keys(device.maker_org_id, owner_org_id, status, device.product_type)
    actions: List[Action] = [
        DeviceModel.claim_status.set(status),
        DeviceModel.updated_at.set(now),
        DeviceModel.maker_status.set(keys["maker_status"]),
    ]
    if owner_org_id:
        actions += [
            DeviceModel.owner_org_id.set(owner_org_id),
            DeviceModel.owner_status.set(keys["owner_status"]),
            DeviceModel.owner_product.set(keys["owner_product"]),
            DeviceModel.claimed_at.set(now),
        ]
    else:
        actions += [
            DeviceModel.owner_org_id.remove(),
            DeviceModel.owner_status.remove(),
            DeviceModel.owner_product.remove(),
            DeviceModel.claimed_at.remove(),
            DeviceModel.site_id.remove(),
        ]
    return actions


def release_device(principal: Principal, serial: str) -> Dict[str, Any]:
    """The owner gives the device up: UNCLAIMED again; the past owner is kept in keys_exposed_to."""
    device = visible_device(principal, serial)
    if not principal.has_role(ORG_ADMIN, KEY_MANAGER) or principal.site_limited:
        raise Forbidden("Only the owner's ORG_ADMIN or KEY_MANAGER releases a device.")
    if not device.owner_org_id or not org_id_in_scope(principal, device.owner_org_id):
        raise NotOwner()
    previous = device.owner_org_id
    actions = ownership_actions(device, None, "UNCLAIMED", clock.now())
    actions.append(DeviceModel.keys_exposed_to.set(_exposed(device, previous)))
    try:
        device.update(actions=actions, condition=DeviceModel.owner_org_id == previous)
    except UpdateError:
        raise NotOwner() from None
    record_event(
        principal.user_id,
        "device_released",
        previous,
        target=serial,
        detail={"keys_exposed_to": _exposed(device, previous)},
    )
    return device_view(get_device(serial))


def take_ownership(principal: Principal, serial: str, org_id: str) -> Dict[str, Any]:
    """Move a device to an organization the actor acts for (permission devices.take_ownership)."""
    device = visible_device(principal, serial)
    target = org_in_scope(principal, org_id)
    require(principal, TAKE_OWNERSHIP)
    previous = device.owner_org_id
    actions = ownership_actions(device, target.org_id, "CLAIMED", clock.now())
    if previous and previous != target.org_id:
        actions.append(DeviceModel.keys_exposed_to.set(_exposed(device, previous)))
        actions.append(DeviceModel.site_id.remove())
    condition = DeviceModel.owner_org_id == previous if previous else DeviceModel.owner_org_id.does_not_exist()
    try:
        device.update(actions=actions, condition=condition)
    except UpdateError:
        raise Conflict("The device changed hands meanwhile; reload and try again.") from None
    record_event(
        principal.user_id, "device_ownership_taken", target.org_id, target=serial, detail={"previous_owner": previous}
    )
    return device_view(get_device(serial))


def _exposed(device: DeviceModel, previous: str) -> List[str]:
    past = list(device.keys_exposed_to or [])
    return past if previous in past else past + [previous]
