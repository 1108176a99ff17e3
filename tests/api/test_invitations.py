"""Invitations: every state transition and every refused one, mails, limits, the public side and the page."""

import re
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.models import AuditEventModel, InvitationModel
from chalicelib.services.tenants.users import find_user_by_email
from tests.helpers import make_org

PASSWORD = "Invited-Passw0rd-77"


@pytest.fixture
def admin(api, login_as, mailbox):
    make_org("acme", name="Acme Metering")
    make_org("acme_east", parent_id="acme")
    make_org("rival")
    return login_as("ORG_ADMIN", org_id="acme", name="Grace Hopper")


def invite(api, token, **fields):
    body = {
        "name": "Ivy Invitee",
        "email": "ivy@example.com",
        "org_id": "acme",
        "roles": ["KEY_MANAGER"],
        "language": "de",
        **fields,
    }
    response = api.call("POST", "/invitations", body, token=token)
    assert response.status_code == 201, response.body
    return response.data


def token_of(invitation):
    return invitation["link"].rsplit("/invite/", 1)[1]


def actions():
    return [event.action for event in AuditEventModel.scan()]


def test_a_prepared_invitation_has_a_link_and_sends_nothing(api, admin, mailbox):
    invitation = invite(api, admin)
    assert invitation["state"] == "CREATED" and invitation["link"].startswith("https://keyport.test/invite/inv_")
    expires = datetime.fromisoformat(invitation["expires_at"]) - datetime.fromisoformat(invitation["created_at"])
    assert expires == timedelta(days=7)
    assert mailbox.messages() == [] and "invitation_created" in actions()


def test_the_lifetime_can_be_chosen_up_to_thirty_days(api, admin):
    invitation = invite(api, admin, valid_days=30)
    created, expires = (datetime.fromisoformat(invitation[key]) for key in ("created_at", "expires_at"))
    assert expires - created == timedelta(days=30)
    assert api.call("POST", "/invitations", {"roles": ["VIEWER"], "valid_days": 31}, token=admin).status_code == 422


def test_sending_mails_the_link_in_the_invitations_language(api, admin, mailbox):
    invitation = invite(api, admin)
    sent = api.call("POST", f"/invitations/{invitation['id']}/send", token=admin)
    assert sent.status_code == 200 and sent.data["state"] == "SENT"
    [message] = mailbox.messages(to="ivy@example.com")
    assert message["Subject"] == "Einladung zu Acme Metering bei keyport"
    text = mailbox.text(message)
    assert invitation["link"] in text and "Grace Hopper" in text and "7 Tage gültig" in text


def test_a_resend_keeps_the_link_renews_the_expiry_and_stops_after_five_an_hour(api, admin, mailbox):
    invitation = invite(api, admin)
    first = api.call("POST", f"/invitations/{invitation['id']}/send", token=admin).data
    for _ in range(5):
        # Bring the stored expiry close, so that only a renewal can push it back out to the full lifetime.
        soon = datetime.now(timezone.utc) + timedelta(hours=1)
        InvitationModel.get(invitation["id"]).update(actions=[InvitationModel.expires_at.set(soon)])
        again = api.call("POST", f"/invitations/{invitation['id']}/send", token=admin)
        assert again.status_code == 200 and again.data["link"] == first["link"]
        assert datetime.fromisoformat(again.data["expires_at"]) > soon + timedelta(days=6)
        assert InvitationModel.get(invitation["id"]).expires_at > soon + timedelta(days=6)
    refused = api.call("POST", f"/invitations/{invitation['id']}/send", token=admin)
    assert (refused.status_code, refused.data["error"]["code"]) == (429, "too_many_resends")
    assert len(mailbox.messages()) == 6 and actions().count("invitation_resent") == 5


def test_an_invitation_without_an_address_needs_one_to_be_sent(api, admin, mailbox):
    body = {"name": "No Mail", "org_id": "acme", "roles": ["VIEWER"]}
    invitation = api.call("POST", "/invitations", body, token=admin).data
    assert api.call("POST", f"/invitations/{invitation['id']}/send", token=admin).status_code == 422
    sent = api.call("POST", f"/invitations/{invitation['id']}/send", {"email": "late@example.com"}, token=admin)
    assert sent.status_code == 200 and sent.data["email"] == "late@example.com"


def test_a_failed_mail_leaves_the_invitation_unsent(api, admin, mailbox, monkeypatch):
    from chalicelib import mail
    from chalicelib.mail import MailNotSent

    invitation = invite(api, admin)

    def refuse(*args, **kwargs):
        raise MailNotSent()

    monkeypatch.setattr(mail, "deliver", refuse)
    response = api.call("POST", f"/invitations/{invitation['id']}/send", token=admin)
    assert (response.status_code, response.data["error"]["code"]) == (502, "mail_not_sent")
    assert InvitationModel.get(invitation["id"]).state == "CREATED"


def test_open_invitations_can_be_edited_closed_ones_cannot(api, admin):
    invitation = invite(api, admin)
    edited = api.call("PATCH", f"/invitations/{invitation['id']}", {"roles": ["VIEWER"], "language": "fr"}, token=admin)
    assert edited.status_code == 200 and edited.data["roles"] == ["VIEWER"]
    api.call("POST", f"/invitations/{invitation['id']}/revoke", token=admin)
    refused = api.call("PATCH", f"/invitations/{invitation['id']}", {"name": "x"}, token=admin)
    assert (refused.status_code, refused.data["error"]["code"]) == (409, "invitation_closed")


@pytest.mark.parametrize("closed", ["REVOKED", "ACCEPTED", "EXPIRED"])
@pytest.mark.parametrize("action", ["send", "revoke"])
def test_closed_invitations_refuse_send_and_revoke(api, admin, closed, action):
    invitation = invite(api, admin)
    InvitationModel(invitation["id"]).update(actions=[InvitationModel.state.set(closed)])
    response = api.call("POST", f"/invitations/{invitation['id']}/{action}", token=admin)
    assert (response.status_code, response.data["error"]["code"]) == (409, "invitation_closed")


def test_nobody_invites_with_roles_above_their_own(api, admin):
    response = api.call("POST", "/invitations", {"org_id": "acme", "roles": ["OPERATOR"]}, token=admin)
    assert (response.status_code, response.data["error"]["code"]) == (403, "grant_refused")
    targets = api.call("GET", "/invitations/targets", token=admin).data
    assert [org["id"] for org in targets["orgs"]] == ["acme", "acme_east"]
    assert "OPERATOR" not in targets["roles"] and "INSTALLER" not in targets["roles"]
    assert {"ORG_ADMIN", "KEY_MANAGER", "VIEWER"} <= set(targets["roles"])


def test_the_list_filters_by_organization_and_state(api, admin):
    first, second = invite(api, admin), invite(api, admin, org_id="acme_east")
    api.call("POST", f"/invitations/{second['id']}/revoke", token=admin)

    def listed(query):
        return [item["id"] for item in api.call("GET", f"/invitations{query}", token=admin).data["items"]]

    assert sorted(listed("")) == sorted([first["id"], second["id"]])
    assert listed("?state=REVOKED") == [second["id"]]
    assert listed("?org_id=acme&state=CREATED") == [first["id"]]
    assert api.call("GET", "/invitations?org_id=rival", token=admin).status_code == 404


def test_the_public_view_shows_the_invitation_without_secrets(api, admin):
    invitation = invite(api, admin)
    view = api.call("GET", f"/public/invitations/{token_of(invitation)}")
    assert view.status_code == 200
    assert (view.data["org_name"], view.data["roles"], view.data["name"]) == (
        "Acme Metering",
        ["KEY_MANAGER"],
        "Ivy Invitee",
    )
    assert "nonce" not in view.body.decode() and "created_by" not in view.data


def test_accepting_creates_the_user_and_spends_the_link(api, admin):
    invitation = invite(api, admin)
    token = token_of(invitation)
    accepted = api.call("POST", f"/public/invitations/{token}/accept", {"password": PASSWORD})
    assert accepted.status_code == 201
    assert (accepted.data["email"], accepted.data["org_id"], accepted.data["roles"]) == (
        "ivy@example.com",
        "acme",
        ["KEY_MANAGER"],
    )
    assert InvitationModel.get(invitation["id"]).state == "ACCEPTED"
    api.login("ivy@example.com", PASSWORD)
    again = api.call("POST", f"/public/invitations/{token}/accept", {"password": PASSWORD})
    assert (again.status_code, again.data["error"]["code"]) == (410, "token_invalid")
    assert "invitation_accepted" in actions()


def test_an_invitation_without_an_address_takes_the_invitees(api, admin):
    invitation = api.call("POST", "/invitations", {"org_id": "acme", "roles": ["VIEWER"]}, token=admin).data
    token = token_of(invitation)
    assert api.call("POST", f"/public/invitations/{token}/accept", {"password": PASSWORD}).status_code == 422
    accepted = api.call(
        "POST",
        f"/public/invitations/{token}/accept",
        {"password": PASSWORD, "email": "Walk.In@Example.com", "name": "Walk In"},
    )
    assert accepted.status_code == 201 and accepted.data["email"] == "walk.in@example.com"


def test_a_known_email_answers_409_and_leaves_the_invitation_usable(api, admin, login_as):
    login_as("VIEWER", org_id="rival", email="ivy@example.com")
    invitation = invite(api, admin)
    token = token_of(invitation)
    taken = api.call("POST", f"/public/invitations/{token}/accept", {"password": PASSWORD})
    assert (taken.status_code, taken.data["error"]["code"]) == (409, "email_taken")
    assert InvitationModel.get(invitation["id"]).state == "CREATED"
    api.call("PATCH", f"/invitations/{invitation['id']}", {"email": "ivy2@example.com"}, token=admin)
    assert api.call("POST", f"/public/invitations/{token}/accept", {"password": PASSWORD}).status_code == 201


def test_a_weak_password_is_refused_and_leaves_the_invitation_usable(api, admin):
    token = token_of(invite(api, admin))
    weak = api.call("POST", f"/public/invitations/{token}/accept", {"password": "password123"})
    assert (weak.status_code, weak.data["error"]["code"]) == (422, "weak_password")
    assert api.call("POST", f"/public/invitations/{token}/accept", {"password": PASSWORD}).status_code == 201


def dead_links(api, admin):
    revoked, expired, used = invite(api, admin), invite(api, admin), invite(api, admin, email="u@example.com")
    api.call("POST", f"/invitations/{revoked['id']}/revoke", token=admin)
    # Past its expiry but not yet moved by the hourly job: the link must be dead already.
    InvitationModel(expired["id"]).update(
        actions=[InvitationModel.expires_at.set(datetime.now(timezone.utc) - timedelta(seconds=1))]
    )
    api.call("POST", f"/public/invitations/{token_of(used)}/accept", {"password": PASSWORD})
    forged = revoked["link"].rsplit("/", 1)[1].split(".")[0] + ".forged"
    return [token_of(revoked), token_of(expired), token_of(used), "inv_unknown.x", forged, "garbage"]


def test_revoked_expired_used_unknown_and_forged_links_answer_the_same_410(api, admin):
    bodies = set()
    for token in dead_links(api, admin):
        view = api.call("GET", f"/public/invitations/{token}")
        accept = api.call("POST", f"/public/invitations/{token}/accept", {"password": PASSWORD})
        assert view.status_code == accept.status_code == 410
        bodies |= {view.body, accept.body}
    assert len(bodies) == 1


def test_the_page_shows_the_invitation_in_its_language_under_a_strict_policy(api, admin):
    token = token_of(invite(api, admin))
    page = api.call("GET", f"/invite/{token}", headers={"Content-Type": "text/html"})
    html = page.body.decode()
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert '<html lang="de">' in html and "Acme Metering" in html and "Schlüsselverwalter" in html
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "form-action 'self'" in csp and "'unsafe-inline'" not in csp
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert not re.search(r"(src|href)=\"https?://", html)  # no external assets


def post_form(api, token, **fields):
    from urllib.parse import urlencode

    return api.call(
        "POST", f"/invite/{token}", raw=urlencode(fields), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )


def test_the_page_form_names_the_broken_rules_then_accepts(api, admin):
    token = token_of(invite(api, admin))
    weak = post_form(api, token, name="Ivy", password="kurz", password_repeat="kurz").body.decode()
    assert "zu schwach" in weak and "mindestens 12 Zeichen" in weak and "eine Ziffer" in weak
    mismatch = post_form(api, token, name="Ivy", password=PASSWORD, password_repeat=PASSWORD + "x").body.decode()
    assert "stimmen nicht überein" in mismatch
    done = post_form(api, token, name="Ivy", password=PASSWORD, password_repeat=PASSWORD).body.decode()
    assert 'id="success"' in done and find_user_by_email("ivy@example.com").name == "Ivy"
    assert (
        'href="/console/login?email=ivy%40example.com&amp;lang=de&amp;done=accepted"' in done
    )  # sign-in, the address filled


def test_the_page_of_a_dead_link_says_so_in_the_browsers_language(api, admin):
    for token in dead_links(api, admin):
        page = api.call("GET", f"/invite/{token}", headers={"Accept-Language": "fr-CH, fr;q=0.9, en;q=0.8"})
        assert page.status_code == 200 and "Ce lien ne fonctionne plus" in page.body.decode()


def test_a_script_in_a_name_is_shown_as_text(api, admin):
    token = token_of(invite(api, admin, name="<script>alert(1)</script>"))
    html = api.call("GET", f"/invite/{token}").body.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_an_empty_edit_changes_nothing_and_answers_the_invitation(api, admin):
    invitation = invite(api, admin)
    response = api.call("PATCH", f"/invitations/{invitation['id']}", {}, token=admin)
    assert response.status_code == 200 and response.data["name"] == "Ivy Invitee"


def test_one_link_may_probe_addresses_only_ten_times_an_hour(api, admin, login_as):
    login_as("VIEWER", org_id="rival", email="known@example.com")
    invitation = api.call("POST", "/invitations", {"org_id": "acme", "roles": ["VIEWER"]}, token=admin).data
    token = token_of(invitation)
    statuses = [
        api.call(
            "POST", f"/public/invitations/{token}/accept", {"password": PASSWORD, "email": "known@example.com"}
        ).status_code
        for _ in range(11)
    ]
    assert statuses == [409] * 10 + [429]


def test_the_page_states_the_expiry_in_the_invitations_language_and_names_the_time_zone(api, admin):
    from zoneinfo import ZoneInfo

    invitation = invite(api, admin)
    html = api.call("GET", f"/invite/{token_of(invitation)}").body.decode()
    local = datetime.fromisoformat(invitation["expires_at"]).astimezone(ZoneInfo("Europe/Berlin"))
    zone = "Mitteleuropäische Sommerzeit" if local.dst() else "Mitteleuropäische Normalzeit"
    assert f"Die Einladung gilt bis {local:%d.%m.%Y, %H:%M} ({zone})." in html and "UTC" not in html
