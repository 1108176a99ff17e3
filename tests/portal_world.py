"""A customer world for the portal's service-level tests: an installer's customer with two sites, a device and an
installation on each, another organization beside them, and the principals who act on them."""

from datetime import datetime, timedelta, timezone

from chalicelib.models import InstallationModel, SiteModel
from chalicelib.permissions import Principal
from chalicelib.services.accounts.sessions import principal_of
from tests.helpers import make_device, make_org, make_user


def make_installation(installation_id, serial, site_id, installer="inst", customer="cust", state="ACTIVE"):
    """A stored installation of a device for a customer at a site."""
    now = datetime.now(timezone.utc)
    InstallationModel(
        installation_id,
        state=state,
        serial=serial,
        product_type="meter",
        installer_org_id=installer,
        installer_user_id="usr_x",
        customer_org_id=customer,
        customer_user_id="usr_y",
        customer={"email": "c@example.com", "name": "C"},
        site_id=site_id,
        web_address=f"{serial.lower()}.example.com",
        created_key=f"{now.isoformat()}#{installation_id}",
        created_at=now,
        activation_expires_at=now + timedelta(days=14),
        activated_at=now,
    ).save()


_built = {}


def make_portal_world():
    """cust (created by the installer inst) with sites A and B, a device and an installation on each; other (made by
    nobody in particular) with its own device; answer the principals by name. Built once per process into moto's
    fresh tables, then copied into each test's (~25 writes a test saved: a mutation run repeats these tests)."""
    import copy
    import os

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][os.environ["AWS_DEFAULT_REGION"]]
    if not _built:
        _built["principals"] = _build_portal_world()
        _built["tables"] = copy.deepcopy(backend.tables)
    else:
        backend.tables.update(copy.deepcopy(_built["tables"]))
    return dict(_built["principals"])


def _build_portal_world():
    make_org("inst", name="Schmidt Haustechnik")
    make_org("rival_inst")
    installer = make_user(email="ines@inst.example", org_id="inst", roles=("INSTALLER",))
    make_org("cust", name="Erika Mustermann", created_by=installer.user_id)
    make_org("other", name="Other Ltd")
    now = datetime.now(timezone.utc)
    for site_id, org_id in (("site_a", "cust"), ("site_b", "cust"), ("site_o", "other")):
        SiteModel(
            site_id,
            org_id=org_id,
            name=f"Site {site_id[-1].upper()}",
            created_at=now,
            created_by=installer.user_id if org_id == "cust" else "usr_nobody",
        ).save()
    make_device("SN-A1", owner_org_id="cust", site_id="site_a")
    make_device("SN-B1", owner_org_id="cust", site_id="site_b")
    make_device("SN-OTHER", owner_org_id="other")
    make_installation("ins_a", "SN-A1", "site_a")
    make_installation("ins_b", "SN-B1", "site_b")
    return {
        "installer": principal_of(installer),
        "rival": Principal("usr_rival", "rival_inst", frozenset({"INSTALLER"})),
        "admin": Principal("usr_admin", "cust", frozenset({"ORG_ADMIN"})),
        "site_admin": Principal("usr_site", "cust", frozenset({"SITE_ADMIN"}), site_ids=frozenset({"site_a"})),
        "viewer": Principal("usr_viewer", "cust", frozenset({"VIEWER"})),
        "other_admin": Principal("usr_other", "other", frozenset({"ORG_ADMIN"})),
        "operator": Principal("usr_op", "root", frozenset({"OPERATOR"})),
    }
