"""Customer-portal access codes: each level shows exactly its scope; regenerate and revoke cut sessions."""

from datetime import datetime, timedelta, timezone

import pytest

import app  # noqa: F401  (registers the routes)
from chalicelib.api.http import ROUTES
from chalicelib.models import AuditEventModel, InstallationModel, PortalAccessModel, SiteModel
from tests.helpers import make_device, make_org, make_user


def installation(installation_id, serial, site_id, installer="inst"):
    now = datetime.now(timezone.utc)
    InstallationModel(
        installation_id,
        state="ACTIVE",
        serial=serial,
        product_type="meter",
        installer_org_id=installer,
        installer_user_id="usr_x",
        customer_org_id="cust",
        customer_user_id="usr_y",
        customer={"email": "c@example.com", "name": "C"},
        site_id=site_id,
        created_key=f"{now.isoformat()}#{installation_id}",
        created_at=now,
        activation_expires_at=now + timedelta(days=14),
        activated_at=now,
    ).save()


@pytest.fixture
def world(api, login_as):
    """cust (created by the installer inst) with sites A and B, a device and an installation on each; devices of
    another organization beside them."""
    make_org("inst", name="Schmidt Haustechnik")
    make_org("rival_inst")
    installer = make_user(email="ines@inst.example", org_id="inst", roles=("INSTALLER",))
    make_org("cust", name="Erika Mustermann", created_by=installer.user_id)
    make_org("other")
    now = datetime.now(timezone.utc)
    for site_id in ("site_a", "site_b"):
        SiteModel(
            site_id, org_id="cust", name=f"Site {site_id[-1].upper()}", created_at=now, created_by=installer.user_id
        ).save()
    make_device("SN-A1", owner_org_id="cust", site_id="site_a")
    make_device("SN-B1", owner_org_id="cust", site_id="site_b")
    make_device("SN-OTHER", owner_org_id="other")
    installation("ins_a", "SN-A1", "site_a")
    installation("ins_b", "SN-B1", "site_b")
    return {
        "installer": api.login("ines@inst.example"),
        "admin": login_as("ORG_ADMIN", org_id="cust"),
        "rival": login_as("INSTALLER", org_id="rival_inst"),
        "site_admin": login_as("SITE_ADMIN", org_id="cust", site_ids=("site_a",)),
        "viewer": login_as("VIEWER", org_id="cust"),
    }


def enable(api, token, scope_type, scope_id):
    response = api.call("POST", "/portal-access", {"scope": {"type": scope_type, "id": scope_id}}, token=token)
    assert response.status_code == 201, response.body
    return response.data


def portal_login(api, code, token=None):
    body = {"code": code, **({"token": token} if token else {})}
    return api.call("POST", "/public/portal/sessions", body)


def seen(api, session):
    devices = api.call("GET", "/portal/devices", token=session)
    installations = api.call("GET", "/portal/installations", token=session)
    assert devices.status_code == installations.status_code == 200, devices.body
    return ({item["serial"] for item in devices.data["items"]}, {item["id"] for item in installations.data["items"]})


@pytest.mark.parametrize(
    "scope_type, scope_id, devices, installations",
    [
        ("org", "cust", {"SN-A1", "SN-B1"}, {"ins_a", "ins_b"}),
        ("site", "site_a", {"SN-A1"}, {"ins_a"}),
        ("site", "site_b", {"SN-B1"}, {"ins_b"}),
        ("installation", "ins_b", {"SN-B1"}, {"ins_b"}),
    ],
)
def test_each_level_shows_exactly_its_scope(api, world, scope_type, scope_id, devices, installations):
    access = enable(api, world["installer"], scope_type, scope_id)
    assert access["enabled"] and access["link"] == "https://keyport.test/console/portal" and len(access["code"]) == 34
    assert ("token" in access) == (scope_type == "installation")
    login = portal_login(api, access["code"].lower().replace("-", " "), access.get("token"))
    assert login.status_code == 201, login.body
    assert login.data["scope"]["type"] == scope_type and login.data["scope"]["id"] == scope_id
    assert seen(api, login.data["token"]) == (devices, installations)
    body = api.call("GET", "/portal/devices", token=login.data["token"]).body
    assert b"hex" not in body and b"keys" not in body


def test_customer_and_site_codes_work_side_by_side(api, world):
    org_code = enable(api, world["admin"], "org", "cust")["code"]
    site_code = enable(api, world["admin"], "site", "site_a")["code"]
    org_session = portal_login(api, org_code).data["token"]
    site_session = portal_login(api, site_code).data["token"]
    assert seen(api, org_session)[0] == {"SN-A1", "SN-B1"} and seen(api, site_session)[0] == {"SN-A1"}


@pytest.mark.parametrize("token", [None, "wrong-token", "x" * 43])
def test_installation_scope_refuses_the_code_without_its_token(api, world, token):
    access = enable(api, world["installer"], "installation", "ins_a")
    response = portal_login(api, access["code"], token)
    assert response.status_code == 401 and response.data["error"]["code"] == "portal_login_invalid"


def test_the_code_is_readable_again_by_staff_but_stored_only_wrapped_and_hashed(api, world):
    access = enable(api, world["installer"], "installation", "ins_a")
    again = api.call("GET", "/portal-access?scope_type=installation&scope_id=ins_a", token=world["admin"])
    assert again.status_code == 200 and again.data["code"] == access["code"] and "token" not in again.data
    stored = PortalAccessModel.get(access["id"])
    raw = repr(stored.attribute_values).encode()
    assert access["code"].encode() not in raw and access["code"].replace("-", "").encode() not in raw
    assert access["token"].encode() not in raw and stored.token_hash != access["token"]


def test_regenerate_stops_the_old_code_and_its_sessions_at_once(api, world):
    access = enable(api, world["admin"], "org", "cust")
    session = portal_login(api, access["code"]).data["token"]
    fresh = api.call("POST", f"/portal-access/{access['id']}/regenerate", token=world["admin"])
    assert fresh.status_code == 200 and fresh.data["code"] != access["code"]
    assert api.call("GET", "/portal/devices", token=session).status_code == 401
    assert portal_login(api, access["code"]).status_code == 401
    assert seen(api, portal_login(api, fresh.data["code"]).data["token"])[0] == {"SN-A1", "SN-B1"}
    shown = api.call("GET", "/portal-access?scope_type=org&scope_id=cust", token=world["admin"]).data
    assert shown["code"] == fresh.data["code"]


def test_revoke_stops_the_code_and_its_sessions_and_enabling_again_gives_a_new_code(api, world):
    access = enable(api, world["installer"], "site", "site_a")
    session = portal_login(api, access["code"]).data["token"]
    assert api.call("DELETE", f"/portal-access/{access['id']}", token=world["installer"]).status_code == 204
    assert api.call("GET", "/portal/installations", token=session).status_code == 401
    assert portal_login(api, access["code"]).status_code == 401
    shown = api.call("GET", "/portal-access?scope_type=site&scope_id=site_a", token=world["installer"]).data
    assert shown["enabled"] is False and shown["state"] == "REVOKED" and shown["code"] is None
    assert api.call("DELETE", f"/portal-access/{access['id']}", token=world["installer"]).status_code == 409
    again = enable(api, world["installer"], "site", "site_a")
    assert again["code"] != access["code"] and portal_login(api, again["code"]).status_code == 201


def test_enabling_an_enabled_scope_answers_409(api, world):
    enable(api, world["admin"], "org", "cust")
    again = api.call("POST", "/portal-access", {"scope": {"type": "org", "id": "cust"}}, token=world["admin"])
    assert again.status_code == 409 and again.data["error"]["code"] == "portal_access_exists"


@pytest.mark.parametrize(
    "who, scope_type, scope_id, status",
    [
        ("installer", "org", "cust", 201),
        ("rival", "org", "cust", 404),
        ("rival", "site", "site_a", 404),
        ("rival", "installation", "ins_a", 404),
        ("site_admin", "site", "site_a", 201),
        ("site_admin", "site", "site_b", 404),
        ("site_admin", "org", "cust", 404),
        ("site_admin", "installation", "ins_b", 404),
        ("viewer", "site", "site_a", 403),
        ("admin", "org", "other", 404),
        ("admin", "installation", "nope", 404),
    ],
)
def test_who_may_enable_which_scope(api, world, who, scope_type, scope_id, status):
    response = api.call("POST", "/portal-access", {"scope": {"type": scope_type, "id": scope_id}}, token=world[who])
    assert response.status_code == status, response.body


def test_a_portal_session_cannot_call_any_other_route(api, world):
    session = portal_login(api, enable(api, world["admin"], "org", "cust")["code"]).data["token"]
    for spec in ROUTES:
        if spec.public or spec.portal:
            continue
        path = spec.path.replace("{", "").replace("}", "")
        response = api.call(spec.method, path, {}, token=session)
        assert response.status_code == 401, (spec.method, spec.path, response.body)


def test_user_sessions_cannot_read_the_portal(api, world):
    for route in ("/portal/devices", "/portal/installations"):
        assert api.call("GET", route, token=world["admin"]).status_code == 401


def test_wrong_codes_sharing_a_victims_first_symbols_do_not_lock_the_victims_code(api, world):
    code = enable(api, world["admin"], "org", "cust")["code"]
    for number in range(10):
        wrong = code[:5] + f"{number:04d}" + code[9:]  # the first four symbols (and the dash) are the victim's
        assert wrong != code and portal_login(api, wrong).status_code == 401
    assert portal_login(api, code).status_code == 201
    actions = [event.action for event in AuditEventModel.scan()]
    assert actions.count("portal_login_failed") == 10 and "portal_access_enabled" in actions


def test_ten_failures_of_one_code_lock_that_code(api, world):
    access = enable(api, world["admin"], "installation", "ins_a")
    for _ in range(10):
        assert portal_login(api, access["code"], token="wrong-token").status_code == 401
    locked = portal_login(api, access["code"], token=access["token"])
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0


def test_enable_regenerate_revoke_and_logins_are_audited(api, world):
    access = enable(api, world["admin"], "org", "cust")
    api.call("POST", f"/portal-access/{access['id']}/regenerate", token=world["admin"])
    code = api.call("GET", "/portal-access?scope_type=org&scope_id=cust", token=world["admin"]).data["code"]
    portal_login(api, code)
    api.call("DELETE", f"/portal-access/{access['id']}", token=world["admin"])
    actions = [event.action for event in AuditEventModel.scan()]
    for action in ("portal_access_enabled", "portal_access_regenerated", "portal_access_revoked", "portal_login"):
        assert action in actions
    assert not any(code in str(event.detail) for event in AuditEventModel.scan())


def test_guessing_from_one_source_is_throttled_after_fifty_failures_of_any_code(api, world, monkeypatch):
    import time

    now = time.time() // 900 * 900 + 30  # 30 s into a quarter hour, held there
    monkeypatch.setattr(time, "time", lambda: now)
    code = enable(api, world["admin"], "org", "cust")["code"]
    for number in range(50):
        guess = f"{number:02d}" + "Z" * 26  # a new code each time: only the source's count grows
        assert portal_login(api, guess).status_code == 401
    locked = portal_login(api, code)
    assert locked.status_code == 429 and locked.headers["Retry-After"] == "871"  # counted in minute slots
