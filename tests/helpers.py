"""Helpers shared by the test tiers."""

from chalicelib.services.tenants.bootstrap import ROOT_ORG_ID, ensure_root_org
from chalicelib.services.tenants.users import insert_user

STRONG_PASSWORD = "Correct-Horse-9-Battery"

# The settings the template gives a deployed stage: nothing here points at a laptop.
DEPLOYED = {
    "KEYPORT_STAGE": "dev",
    "KEYPORT_PUBLIC_BASE_URL": "https://keys.example.com",
    "KEYPORT_MAIL_FROM": "keyport <no-reply@example.com>",
    "KEYPORT_SERVER_SECRET_ARN": "arn:aws:secretsmanager:eu-central-1:123456789012:secret:keyport-dev-server-AbCdEf",
    "KEYPORT_KMS_KEY_ARN": "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "KEYPORT_EXPORT_QUEUE_URL": "https://sqs.eu-central-1.amazonaws.com/123456789012/keyport-dev-exports",
    "KEYPORT_EXPORT_BUCKET": "keyport-dev-exports-123456789012",
}


def make_user(
    email="user@example.com",
    password=STRONG_PASSWORD,
    roles=("VIEWER",),
    org_id=ROOT_ORG_ID,
    must_change_password=False,
    **fields,
):
    """A stored user (and the root organization) for a test."""
    ensure_root_org()
    return insert_user(
        email=email,
        name=fields.pop("name", "Test User"),
        org_id=org_id,
        password=password,
        roles=roles,
        must_change_password=must_change_password,
        **fields,
    )


def make_org(org_id, parent_id=ROOT_ORG_ID, name=None, **fields):
    """A stored organization under a parent (the root by default)."""
    from datetime import datetime, timezone

    from chalicelib.models import OrganizationModel

    ensure_root_org()
    parent = OrganizationModel.get(parent_id)
    name = name or f"Org {org_id}"
    org = OrganizationModel(
        org_id,
        name=name,
        name_lower=name.lower(),
        parent_id=parent_id,
        path=OrganizationModel.path_of(parent.path, org_id),
        created_at=datetime.now(timezone.utc),
        **fields,
    )
    org.save()
    return org


DEVICE_KEYS = [{"name": "app", "algorithm": "AES128", "hex": "00112233445566778899aabbccddeeff"}]


def make_device(
    serial,
    maker_org_id="root",
    owner_org_id=None,
    status=None,
    site_id=None,
    labels=(),
    product_type="meter",
    keys=None,
    claim_code=None,
    id_code=None,
    mac="00:1a:2b:3c:4d:5e",
    **fields,
):
    """A stored device with wrapped keys (claimed when an owner is given)."""
    from datetime import datetime, timezone

    from chalicelib.crypto import KeyWrapper
    from chalicelib.models import DeviceLabelModel, DeviceModel
    from chalicelib.services.devices.catalog import claim_code_digest, id_proof

    status = status or ("CLAIMED" if owner_org_id else "UNCLAIMED")
    now = datetime.now(timezone.utc)
    keys = keys or DEVICE_KEYS
    device = DeviceModel(
        serial,
        product_type=product_type,
        mac=mac,
        labels=list(labels),
        maker_org_id=maker_org_id,
        owner_org_id=owner_org_id,
        claim_status=status,
        claimed_at=now if owner_org_id else None,
        site_id=site_id,
        key_names=[key["name"] for key in keys],
        key_algorithms=[key["algorithm"] for key in keys],
        wrapped_keys=KeyWrapper("imp_test").wrap(serial, keys),
        import_id="imp_test",
        imported_at=now,
        imported_by="usr_test",
        claim_code_hash=claim_code_digest(serial, claim_code) if claim_code else None,
        id_proof=id_proof(id_code, mac) if id_code else None,
        **DeviceModel.index_keys(maker_org_id, owner_org_id, status, product_type),
        **fields,
    )
    device.save()
    for label in labels:
        DeviceLabelModel(label, serial).save()
    return device


def emitted_metrics(printed):
    """The EMF lines in printed output: [(namespace, dimensions, {metric name: summed value})], one per flush."""
    import json

    found = []
    for line in printed.splitlines():
        if line.startswith('{"_aws"'):
            record = json.loads(line)
            [directive] = record["_aws"]["CloudWatchMetrics"]
            names = [metric["Name"] for metric in directive["Metrics"]]
            assert all(metric["Unit"] == "Count" for metric in directive["Metrics"])
            dimensions = {name: record[name] for group in directive["Dimensions"] for name in group}
            found.append((directive["Namespace"], dimensions, {name: sum(record[name]) for name in names}))
    return found
