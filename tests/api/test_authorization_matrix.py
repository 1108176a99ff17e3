"""Every route x every role x own and foreign objects: the expected status, and no foreign data in any body.

The table below must name every route of the app: a new route without an entry fails the first test.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Dict, FrozenSet, Optional

import pytest

import app  # noqa: F401  (registers the routes)
from chalicelib.api.http import ROUTES
from chalicelib.models import (
    BatchModel,
    BatchSerialModel,
    DeviceModel,
    ExportModel,
    InstallationModel,
    InvitationModel,
    MailTemplateModel,
    PartnerModel,
    PartnerRequestModel,
    RegistrationModel,
    SiteModel,
    TemplateSlotModel,
)
from chalicelib.permissions import ROLES
from chalicelib.services.accounts.sessions import open_session
from chalicelib.services.portal.access_codes import access_id_of
from tests.conftest import aws_client
from tests.helpers import STRONG_PASSWORD, make_device, make_org, make_user

ALL = frozenset(ROLES)
READERS = ALL - {"CUSTOMER"}  # everyone who may read organizations and sites
ADMINS = frozenset({"OPERATOR", "ORG_ADMIN"})
USER_MANAGERS = ADMINS | {"SITE_ADMIN"}
SITE_MANAGERS = ADMINS | {"INSTALLER"}
CATALOG_READERS = ADMINS | {"KEY_MANAGER", "SITE_ADMIN", "VIEWER"}
DEVICE_EDITORS = ADMINS | {"KEY_MANAGER", "SITE_ADMIN"}
BATCH_READERS = ADMINS | {"KEY_MANAGER", "VIEWER"}
OPERATOR_ONLY = frozenset({"OPERATOR"})
INSTALLERS = frozenset({"OPERATOR", "INSTALLER"})
INSTALLATION_READERS = INSTALLERS | {"ORG_ADMIN", "CUSTOMER"}
PORTAL_MANAGERS = ADMINS | {"SITE_ADMIN", "INSTALLER"}
HOME_ACCESS, FOREIGN_ACCESS = access_id_of("site", "site_home"), access_id_of("site", "site_foreign")
FREE_PROOF = {"id_code": "FREEID1", "mac": "00:1a:2b:3c:4d:5e"}
SECRETS = ("Foreign Secret GmbH", "secret@foreign.example", "Secret Depot", "Foreign Template Text")
NEW_PASSWORD = "Matrix-Passw0rd-42"


@dataclass(frozen=True)
class Case:
    """How to call a route on an own object, which roles may, and how to aim it at a foreign object."""

    path: str
    allowed: FrozenSet[str] = frozenset()
    success: int = 200
    body: Optional[dict] = None
    foreign_path: Optional[str] = None
    foreign_body: Optional[dict] = None
    public: bool = False
    denied: int = 403  # what the roles outside `allowed` get


MATRIX: Dict[tuple, Case] = {
    ("GET", "/health"): Case("/health", public=True),
    ("GET", "/openapi.json"): Case("/openapi.json", public=True),
    ("POST", "/auth/login"): Case("/auth/login", public=True),
    ("POST", "/public/email-confirmations/{token}"): Case("", public=True),
    ("POST", "/public/password-resets"): Case("", public=True),
    ("POST", "/public/password-resets/{token}"): Case("", public=True),
    ("POST", "/auth/logout"): Case("/auth/logout", ALL, 204),
    ("GET", "/me"): Case("/me", ALL),
    ("PATCH", "/me"): Case("/me", ALL, body={"language": "nl"}),
    ("POST", "/me/password"): Case(
        "/me/password", ALL, 204, body={"current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD}
    ),
    ("POST", "/me/email"): Case("/me/email", ALL, 202, body={"new_email": "moved@example.com"}),
    ("GET", "/orgs"): Case("/orgs", READERS, foreign_path="/orgs?parent_id=foreign"),
    ("POST", "/orgs"): Case(
        "/orgs",
        ADMINS,
        201,
        body={"name": "New", "parent_id": "home"},
        foreign_body={"name": "New", "parent_id": "foreign"},
    ),
    ("GET", "/orgs/{org_id}"): Case("/orgs/home_child", READERS, foreign_path="/orgs/foreign"),
    ("PATCH", "/orgs/{org_id}"): Case(
        "/orgs/home_child", ADMINS, body={"name": "Renamed"}, foreign_path="/orgs/foreign"
    ),
    ("GET", "/orgs/{org_id}/partners"): Case("/orgs/home/partners", READERS, foreign_path="/orgs/foreign/partners"),
    ("POST", "/orgs/{org_id}/partners"): Case(
        "/orgs/home_child/partners", ADMINS, 201, body={"partner_org_id": "ally"}, foreign_path="/orgs/foreign/partners"
    ),
    ("DELETE", "/orgs/{org_id}/partners/{partner_id}"): Case(
        "/orgs/home/partners/ally", ADMINS, 204, foreign_path="/orgs/foreign/partners/ally"
    ),
    ("GET", "/orgs/{org_id}/partner-requests"): Case(
        "/orgs/home/partner-requests", ADMINS, foreign_path="/orgs/foreign/partner-requests"
    ),
    ("POST", "/orgs/{org_id}/partner-requests/{partner_id}/accept"): Case(
        "/orgs/home/partner-requests/suitor/accept", ADMINS, foreign_path="/orgs/foreign/partner-requests/ally/accept"
    ),
    ("POST", "/orgs/{org_id}/partner-requests/{partner_id}/decline"): Case(
        "/orgs/home/partner-requests/suitor/decline",
        ADMINS,
        204,
        foreign_path="/orgs/foreign/partner-requests/ally/decline",
    ),
    ("DELETE", "/orgs/{org_id}/partner-requests/{partner_id}"): Case(
        "/orgs/home/partner-requests/org_ghost", ADMINS, 204, foreign_path="/orgs/ally/partner-requests/foreign"
    ),
    ("GET", "/users"): Case("/users", USER_MANAGERS, foreign_path="/users?org_id=foreign"),
    ("POST", "/users"): Case(
        "/users",
        USER_MANAGERS,
        201,
        body={
            "name": "N",
            "email": "n@example.com",
            "roles": ["VIEWER"],
            "org_id": "home",
            "site_ids": ["site_home"],
            "password": STRONG_PASSWORD,
        },
        foreign_body={
            "name": "N",
            "email": "n@example.com",
            "roles": ["VIEWER"],
            "org_id": "foreign",
            "password": STRONG_PASSWORD,
        },
    ),
    ("GET", "/users/{user_id}"): Case("/users/{home_user}", USER_MANAGERS, foreign_path="/users/{foreign_user}"),
    ("PATCH", "/users/{user_id}"): Case(
        "/users/{home_user}", USER_MANAGERS, body={"name": "Renamed"}, foreign_path="/users/{foreign_user}"
    ),
    ("DELETE", "/users/{user_id}"): Case(
        "/users/{home_user}", USER_MANAGERS, 204, foreign_path="/users/{foreign_user}"
    ),
    ("POST", "/users/{user_id}/password"): Case(
        "/users/{home_user}/password",
        USER_MANAGERS,
        204,
        body={"new_password": NEW_PASSWORD},
        foreign_path="/users/{foreign_user}/password",
    ),
    ("GET", "/sites"): Case("/sites", READERS, foreign_path="/sites?org_id=foreign"),
    ("POST", "/sites"): Case(
        "/sites",
        SITE_MANAGERS,
        201,
        body={"org_id": "home", "name": "New"},
        foreign_body={"org_id": "foreign", "name": "New"},
    ),
    ("GET", "/sites/{site_id}"): Case("/sites/site_home", READERS, foreign_path="/sites/site_foreign"),
    ("PATCH", "/sites/{site_id}"): Case(
        "/sites/site_home", SITE_MANAGERS | {"SITE_ADMIN"}, body={"name": "N"}, foreign_path="/sites/site_foreign"
    ),
    ("DELETE", "/sites/{site_id}"): Case("/sites/site_home", SITE_MANAGERS, 204, foreign_path="/sites/site_foreign"),
    ("GET", "/public/invitations/{token}"): Case("", public=True),
    ("POST", "/public/invitations/{token}/accept"): Case("", public=True),
    ("GET", "/invite/{token}"): Case("", public=True),
    ("GET", "/reset-password/{token}"): Case("", public=True),
    ("POST", "/reset-password/{token}"): Case("", public=True),
    ("GET", "/confirm-email/{token}"): Case("", public=True),
    ("POST", "/confirm-email/{token}"): Case("", public=True),
    ("POST", "/invite/{token}"): Case("", public=True),
    ("GET", "/invitations"): Case("/invitations", USER_MANAGERS, foreign_path="/invitations?org_id=foreign"),
    ("GET", "/invitations/targets"): Case("/invitations/targets", USER_MANAGERS),
    ("POST", "/invitations"): Case(
        "/invitations",
        USER_MANAGERS,
        201,
        body={"org_id": "home", "roles": ["VIEWER"], "site_ids": ["site_home"]},
        foreign_body={"org_id": "foreign", "roles": ["VIEWER"]},
    ),
    ("GET", "/invitations/{invitation_id}"): Case(
        "/invitations/inv_home", USER_MANAGERS, foreign_path="/invitations/inv_foreign"
    ),
    ("PATCH", "/invitations/{invitation_id}"): Case(
        "/invitations/inv_home", USER_MANAGERS, body={"name": "N"}, foreign_path="/invitations/inv_foreign"
    ),
    ("POST", "/invitations/{invitation_id}/send"): Case(
        "/invitations/inv_home/send", USER_MANAGERS, foreign_path="/invitations/inv_foreign/send"
    ),
    ("POST", "/invitations/{invitation_id}/revoke"): Case(
        "/invitations/inv_home/revoke", USER_MANAGERS, foreign_path="/invitations/inv_foreign/revoke"
    ),
    ("POST", "/devices/import"): Case(
        "/devices/import?org_id=home", OPERATOR_ONLY, body={"items": []}, foreign_path="/devices/import?org_id=foreign"
    ),
    ("GET", "/devices"): Case("/devices?view=owned", CATALOG_READERS, foreign_path="/devices?org_id=foreign"),
    ("GET", "/devices/{serial}"): Case("/devices/SN-HOME", CATALOG_READERS, foreign_path="/devices/SN-FOREIGN"),
    ("PATCH", "/devices/{serial}"): Case(
        "/devices/SN-HOME", DEVICE_EDITORS, body={"labels": ["x"]}, foreign_path="/devices/SN-FOREIGN"
    ),
    ("POST", "/devices/{serial}/claim"): Case(
        "/devices/SN-FREE/claim",
        DEVICE_EDITORS,
        body={"claim_code": "FREE-CODE-1"},
        foreign_body={"claim_code": "FREE-CODE-1", "org_id": "foreign"},
    ),
    ("POST", "/devices/{serial}/release"): Case(
        "/devices/SN-HOME/release", ADMINS | {"KEY_MANAGER"}, foreign_path="/devices/SN-FOREIGN/release"
    ),
    ("POST", "/devices/{serial}/take-ownership"): Case(
        "/devices/SN-HOME/take-ownership",
        OPERATOR_ONLY,
        body={"org_id": "home_child"},
        foreign_path="/devices/SN-FOREIGN/take-ownership",
    ),
    ("GET", "/devices/keys"): Case("/devices/keys", DEVICE_EDITORS, foreign_path="/devices/keys?org_id=foreign"),
    ("GET", "/devices/{serial}/keys"): Case(
        "/devices/SN-HOME/keys", DEVICE_EDITORS, foreign_path="/devices/SN-FOREIGN/keys"
    ),
    ("POST", "/exports"): Case(
        "/exports", DEVICE_EDITORS, 202, body={"format": "csv"}, foreign_body={"format": "csv", "org_id": "foreign"}
    ),
    ("GET", "/exports"): Case("/exports", ALL),
    ("GET", "/exports/{export_id}"): Case("/exports/exp_own", ALL, foreign_path="/exports/exp_foreign"),
    ("GET", "/exports/{export_id}/file"): Case(
        "/exports/exp_own/file", DEVICE_EDITORS, 302, foreign_path="/exports/exp_foreign/file"
    ),
    ("GET", "/audit"): Case("/audit", ADMINS, foreign_path="/audit?org_id=foreign"),
    ("GET", "/batches"): Case("/batches", BATCH_READERS, foreign_path="/batches?org_id=foreign"),
    ("POST", "/batches"): Case(
        "/batches",
        OPERATOR_ONLY,
        201,
        body={"reference": "R-1", "org_id": "home", "serials": ["SN-FREE"]},
        foreign_body={"reference": "R-1", "org_id": "home", "serials": ["SN-FREE"], "maker_org_id": "foreign"},
    ),
    ("GET", "/batches/{batch_id}"): Case("/batches/bat_home", BATCH_READERS, foreign_path="/batches/bat_foreign"),
    ("POST", "/batches/{batch_id}/confirm"): Case(
        "/batches/bat_home/confirm", ADMINS | {"KEY_MANAGER"}, foreign_path="/batches/bat_foreign/confirm"
    ),
    ("POST", "/batches/{batch_id}/reject"): Case(
        "/batches/bat_home/reject", ADMINS | {"KEY_MANAGER"}, foreign_path="/batches/bat_foreign/reject"
    ),
    ("GET", "/templates"): Case("/templates?owner=home", OPERATOR_ONLY, foreign_path="/templates?owner=foreign"),
    ("GET", "/templates/{template_id}"): Case(
        "/templates/tpl_home", OPERATOR_ONLY, foreign_path="/templates/tpl_foreign"
    ),
    ("PATCH", "/templates/{template_id}"): Case(
        "/templates/tpl_home", OPERATOR_ONLY, body={"name": "N"}, foreign_path="/templates/tpl_foreign"
    ),
    ("DELETE", "/templates/{template_id}"): Case(
        "/templates/tpl_home", OPERATOR_ONLY, 204, foreign_path="/templates/tpl_foreign"
    ),
    ("POST", "/templates/{template_id}/copy"): Case(
        "/templates/tpl_home/copy", OPERATOR_ONLY, 201, foreign_path="/templates/tpl_foreign/copy"
    ),
    ("POST", "/templates/{template_id}/activate"): Case(
        "/templates/tpl_home/activate", OPERATOR_ONLY, foreign_path="/templates/tpl_foreign/activate"
    ),
    ("GET", "/templates/{template_id}/preview"): Case(
        "/templates/tpl_home/preview", OPERATOR_ONLY, foreign_path="/templates/tpl_foreign/preview"
    ),
    ("POST", "/templates/{template_id}/test"): Case(
        "/templates/tpl_home/test",
        OPERATOR_ONLY,
        202,
        body={"email": "qa@example.com"},
        foreign_path="/templates/tpl_foreign/test",
    ),
    ("POST", "/public/registrations"): Case("", public=True),
    ("GET", "/registrations"): Case("/registrations", OPERATOR_ONLY),
    ("GET", "/registrations/{registration_id}"): Case("/registrations/reg_home", OPERATOR_ONLY),
    ("POST", "/registrations/{registration_id}/approve"): Case("/registrations/reg_home/approve", OPERATOR_ONLY),
    ("POST", "/registrations/{registration_id}/reject"): Case(
        "/registrations/reg_home/reject", OPERATOR_ONLY, body={"reason": "No."}
    ),
    ("POST", "/installations/check"): Case("/installations/check", INSTALLERS, body=FREE_PROOF),
    ("POST", "/installations"): Case(
        "/installations",
        INSTALLERS,
        201,
        body={**FREE_PROOF, "customer": {"email": "new.customer@example.com", "name": "New Customer"}},
    ),
    ("GET", "/installations"): Case(
        "/installations", INSTALLATION_READERS, foreign_path="/installations?org_id=foreign"
    ),
    ("GET", "/installations/{installation_id}"): Case(
        "/installations/ins_home", INSTALLATION_READERS, foreign_path="/installations/ins_foreign"
    ),
    ("POST", "/installations/{installation_id}/cancel"): Case(
        "/installations/ins_home/cancel", INSTALLERS, foreign_path="/installations/ins_foreign/cancel"
    ),
    ("POST", "/portal-access"): Case(
        "/portal-access",
        PORTAL_MANAGERS,
        201,
        body={"scope": {"type": "site", "id": "site_home_2"}},
        foreign_body={"scope": {"type": "site", "id": "site_foreign"}},
    ),
    ("GET", "/portal-access"): Case(
        "/portal-access?scope_type=site&scope_id=site_home",
        PORTAL_MANAGERS,
        foreign_path="/portal-access?scope_type=site&scope_id=site_foreign",
    ),
    ("POST", "/portal-access/{access_id}/regenerate"): Case(
        f"/portal-access/{HOME_ACCESS}/regenerate",
        PORTAL_MANAGERS,
        foreign_path=f"/portal-access/{FOREIGN_ACCESS}/regenerate",
    ),
    ("DELETE", "/portal-access/{access_id}"): Case(
        f"/portal-access/{HOME_ACCESS}", PORTAL_MANAGERS, 204, foreign_path=f"/portal-access/{FOREIGN_ACCESS}"
    ),
    ("POST", "/public/portal/sessions"): Case("", public=True),
    ("GET", "/portal/devices"): Case("/portal/devices", denied=401),
    ("GET", "/portal/installations"): Case("/portal/installations", denied=401),
    ("POST", "/installations/{installation_id}/resend"): Case(
        "/installations/ins_home/resend", INSTALLERS, foreign_path="/installations/ins_foreign/resend"
    ),
    ("GET", "/public/activations/{token}"): Case("", public=True),
    ("POST", "/public/activations/{token}"): Case("", public=True),
    ("GET", "/activate/{token}"): Case("", public=True),
    ("POST", "/activate/{token}"): Case("", public=True),
}
PROTECTED = sorted(key for key, case in MATRIX.items() if not case.public)
FOREIGN = sorted(key for key, case in MATRIX.items() if case.foreign_path or case.foreign_body)


def test_the_matrix_names_every_route_of_the_app():
    assert set(MATRIX) == {(spec.method, spec.path) for spec in ROUTES}
    assert {key for key, case in MATRIX.items() if case.public} == {
        (spec.method, spec.path) for spec in ROUTES if spec.public
    }


def template(template_id, owner, text, mail_type="invite"):
    now = datetime.now(timezone.utc)
    MailTemplateModel(
        template_id,
        owner=owner,
        sort_key=f"{mail_type}#en#{template_id}",
        mail_type=mail_type,
        language="en",
        name=text,
        subject="Hi",
        html="{{ link }}",
        text=f"{text} {{{{ link }}}}",
        created_at=now,
        updated_at=now,
    ).save()


_world_snapshot: dict = {}


@pytest.fixture
def world(aws):
    """home (may create orgs) > home_child; foreign and ally beside it; a site, a user and a template in each;
    suitor asks home to be partners.

    Built once per worker, then restored from a deep copy of moto's tables (~0.6 s -> a few ms a test)."""
    import copy

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID]["eu-central-1"]
    if not _world_snapshot:
        ids = build_world()
        _world_snapshot.update(tables=copy.deepcopy(backend.tables), ids=ids)
    else:
        backend.tables.update(copy.deepcopy(_world_snapshot["tables"]))
    aws_client("ses").verify_email_identity(EmailAddress="no-reply@keyport.local")
    return dict(_world_snapshot["ids"])


def build_world():
    """The objects of `world`, written through the models."""
    make_org("home", can_create_orgs=True, reference="HOME-1")
    make_org("home_child", parent_id="home")
    make_org("foreign", name="Foreign Secret GmbH")
    make_org("ally")
    now = datetime.now(timezone.utc)
    SiteModel("site_home", org_id="home", name="Home Depot", created_at=now, created_by="usr_x").save()
    SiteModel("site_foreign", org_id="foreign", name="Secret Depot", created_at=now, created_by="usr_x").save()
    SiteModel("site_home_2", org_id="home", name="Home Yard", created_at=now, created_by="usr_x").save()
    portal_access("site", "site_foreign", "foreign")
    for source, target in (("home", "ally"), ("ally", "home")):
        PartnerModel(source, target, created_at=now, created_by="usr_x").save()
    make_org("suitor")
    # Pending partner requests: suitor asked home, home asked an id naming nobody, ally asked foreign.
    for asker, asked in (("suitor", "home"), ("home", "org_ghost"), ("ally", "foreign")):
        for org_id, partner_org_id, direction in ((asker, asked, "outgoing"), (asked, asker, "incoming")):
            PartnerRequestModel(
                org_id,
                partner_org_id,
                direction=direction,
                created_at=now,
                created_by="usr_x",
                expires_at=now + timedelta(days=30),
                ttl=now + timedelta(days=30),
            ).save()
    template("tpl_home", "home", "Home Template Text")
    template("tpl_foreign", "foreign", "Foreign Template Text")
    for mail_type in (
        "confirm_email",
        "invite",
        "registration_approved",
        "registration_rejected",
        "credentials",
        "activation",
    ):
        template(f"tpl_{mail_type}", "system", "Mail", mail_type=mail_type)
        TemplateSlotModel(TemplateSlotModel.slot_of("system", mail_type, "en"), template_id=f"tpl_{mail_type}").save()
    for invitation_id, org_id, sites in (("inv_home", "home", ["site_home"]), ("inv_foreign", "foreign", [])):
        InvitationModel(
            invitation_id,
            org_id=org_id,
            state="CREATED",
            email="invitee@example.com",
            name="Foreign Secret GmbH" if org_id == "foreign" else "Invitee",
            roles=["VIEWER"],
            site_ids=sites,
            nonce="n",
            created_by="usr_x",
            created_at=now,
            expires_at=now + timedelta(days=7),
        ).save()
    make_device("SN-HOME", maker_org_id="root", owner_org_id="home", site_id="site_home")
    make_device("SN-FREE", maker_org_id="root", claim_code="FREECODE1", id_code=FREE_PROOF["id_code"])
    RegistrationModel(
        "reg_home",
        kind="installer",
        state="PENDING",
        name="Ines",
        email="ines@home.example",
        company_name="Home Installers",
        created_key=f"{now.isoformat()}#reg_home",
        created_at=now,
    ).save()
    customer_user = make_user(email="c@home.example", org_id="home_child", roles=("CUSTOMER",)).user_id
    for installation_id, installer, customer in (
        ("ins_home", "home", "home_child"),
        ("ins_foreign", "foreign", "foreign"),
    ):
        serial = f"SN-{installation_id}"
        make_device(
            serial, maker_org_id="root", owner_org_id=customer, status="PENDING", installation_id=installation_id
        )
        InstallationModel(
            installation_id,
            state="PENDING",
            serial=serial,
            product_type="meter",
            installer_org_id=installer,
            installer_user_id="usr_x",
            customer_org_id=customer,
            customer_user_id=customer_user,
            customer={"email": "secret@foreign.example", "name": "C"}
            if installer == "foreign"
            else {"email": "c@home.example", "name": "C"},
            created_key=f"{now.isoformat()}#{installation_id}",
            created_at=now,
            activation_expires_at=now + timedelta(days=14),
        ).save()
    for batch_id, target in (("bat_home", "home"), ("bat_foreign", "foreign")):
        make_device(f"SN-{batch_id}", maker_org_id="root", owner_org_id=target, status="PENDING", batch_id=batch_id)
        BatchModel(
            batch_id,
            org_id=target,
            target_org_id=target,
            reference=batch_id,
            state="PENDING",
            count=1,
            requires_confirmation=True,
            created_key=f"{now.isoformat()}#{batch_id}",
            created_at=now,
            created_by="usr_x",
        ).save()
        BatchSerialModel(batch_id, f"SN-{batch_id}").save()
    make_device("SN-FOREIGN", maker_org_id="foreign", owner_org_id="foreign", labels=("Foreign Secret GmbH",))
    foreign_user = make_user(email="secret@foreign.example", org_id="foreign").user_id
    ready_export("exp_foreign", foreign_user)
    return {
        "home_user": make_user(email="target@home.example", org_id="home", site_ids=("site_home",)).user_id,
        "foreign_user": foreign_user,
    }


def token_for(role):
    org_id = "root" if role == "OPERATOR" else "home"
    sites = ("site_home", "site_home_2") if role == "SITE_ADMIN" else ()
    user = make_user(email=f"{role.lower()}@home.example", org_id=org_id, roles=(role,), site_ids=sites)
    ready_export("exp_own", user.user_id)
    portal_access("site", "site_home", "home")  # sealed under this test's key, so staff can read it
    return open_session(user)[0]


def portal_access(scope_type, scope_id, org_id):
    """An enabled portal access to a scope."""
    from chalicelib import crypto
    from chalicelib.models import PortalAccessModel
    from chalicelib.services.portal.access_codes import code_digest, normalize_code

    now = datetime.now(timezone.utc)
    access = PortalAccessModel(
        access_id_of(scope_type, scope_id),
        scope_type=scope_type,
        scope_id=scope_id,
        scope_org_id=org_id,
        state="ACTIVE",
        generation=1,
        created_at=now,
        created_by="usr_x",
        changed_at=now,
        changed_by="usr_x",
        code_hash=code_digest(normalize_code("A" * 28)),
    )
    access.code_wrapped = crypto.seal(
        b"AAAA", {"purpose": "portal-code", "access_id": access.access_id, "generation": "1"}
    )
    access.save()


def ready_export(export_id, user_id):
    """A READY export of the user, its file in the bucket."""
    now = datetime.now(timezone.utc)
    ExportModel(
        export_id,
        user_id=user_id,
        org_id="home",
        format="csv",
        state="READY",
        count=1,
        file_name="keys.csv",
        created_at=now,
        created_key=f"{now.isoformat()}#{export_id}",
        finished_at=now,
        expires_at=now + timedelta(hours=24),
        due_at=now + timedelta(hours=24),
    ).save()
    aws_client("s3").put_object(Bucket="keyport-test-exports", Key=f"exports/{export_id}", Body=b"Foreign Secret GmbH")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", PROTECTED, ids=" ".join)
def test_own_objects_answer_by_role(api, world, route, role):
    case = MATRIX[route]
    response = api.call(route[0], case.path.format(**world), case.body, token=token_for(role))
    expected = case.success if role in case.allowed else case.denied
    assert response.status_code == expected, response.body[:300]


@pytest.mark.parametrize("role", sorted(set(ROLES) - {"OPERATOR"}))
@pytest.mark.parametrize("route", FOREIGN, ids=" ".join)
def test_foreign_objects_answer_404_without_their_data(api, world, route, role):
    case = MATRIX[route]
    body = case.foreign_body if case.foreign_body is not None else case.body
    response = api.call(route[0], (case.foreign_path or case.path).format(**world), body, token=token_for(role))
    assert response.status_code == 404, response.body[:300]
    assert not any(secret.encode() in response.body for secret in SECRETS)


@pytest.mark.parametrize("role", ["ORG_ADMIN", "KEY_MANAGER"])
def test_a_maker_cannot_release_a_device_its_customer_owns(api, world, role):
    # The release case above only ever meets devices whose maker is also out of scope (or is the owner):
    # here the actor's organization made the device, so only the owner-scope rule stands in the way.
    make_device("SN-MADE-HOME", maker_org_id="home", owner_org_id="foreign")
    response = api.call("POST", "/devices/SN-MADE-HOME/release", token=token_for(role))
    assert (response.status_code, response.data["error"]["code"]) == (409, "device_not_owned"), response.body[:300]
    device = DeviceModel.get("SN-MADE-HOME")
    assert (device.owner_org_id, device.claim_status) == ("foreign", "CLAIMED")
