"""The template routes: list, read, edit, copy, activate, delete, preview, test mail; who may."""

import pytest

from chalicelib import mail
from chalicelib.mail_types import MAIL_TYPES
from chalicelib.models import AuditEventModel
from chalicelib.services.mail_templates.templates import sync_default_templates
from tests.conftest import aws_client
from tests.helpers import make_org

GOOD_TEXT = "Willkommen {{ recipient_name }} bei {{ org_name }}: {{ link }}"


@pytest.fixture
def defaults(api):
    sync_default_templates()


@pytest.fixture
def org_admin(login_as, defaults):
    """An ORG_ADMIN of org_a allowed to manage templates."""
    make_org("org_a")
    return login_as("ORG_ADMIN", org_id="org_a", permissions=("templates.manage",))


def copy_of(api, token, template_id="tpl_system_invite_de"):
    response = api.call("POST", f"/templates/{template_id}/copy", token=token)
    assert response.status_code == 201, response.body
    return response.data


def test_an_operator_lists_the_63_system_defaults_page_by_page(api, login_as, defaults):
    token = login_as("OPERATOR")
    first = api.call("GET", "/templates?limit=50", token=token)
    second = api.call("GET", f"/templates?limit=50&cursor={first.data['next_cursor']}", token=token)
    assert first.status_code == second.status_code == 200
    assert len(first.data["items"]) == 50 and len(second.data["items"]) == 13
    assert second.data["next_cursor"] is None
    ids = {item["id"] for item in first.data["items"] + second.data["items"]}
    assert len(ids) == 63 and all(item["is_default"] and item["active"] for item in first.data["items"])


@pytest.mark.parametrize(
    "query, count",
    [
        ("type=invite", 7),
        ("type=invite&language=sv", 1),
        ("language=fr", 9),
        ("active=false", 0),
        ("type=credentials&active=true", 7),
    ],
)
def test_the_list_filters_by_type_language_and_state(api, login_as, defaults, query, count):
    response = api.call("GET", f"/templates?owner=system&{query}", token=login_as("OPERATOR"))
    assert response.status_code == 200 and len(response.data["items"]) == count


@pytest.mark.parametrize("query", ["type=nonsense", "language=xx", "active=maybe", "limit=0", "limit=abc"])
def test_a_bad_filter_answers_422(api, login_as, query):
    response = api.call("GET", f"/templates?{query}", token=login_as("OPERATOR"))
    assert response.status_code == 422


@pytest.mark.parametrize("role", ["ORG_ADMIN", "KEY_MANAGER", "VIEWER", "INSTALLER", "CUSTOMER"])
def test_without_templates_manage_the_routes_answer_403(api, login_as, defaults, role):
    token = login_as(role)
    assert api.call("GET", "/templates", token=token).status_code == 403
    assert api.call("GET", "/templates/tpl_system_invite_de", token=token).status_code == 403


def test_system_defaults_are_read_only(api, org_admin):
    patch = api.call("PATCH", "/templates/tpl_system_invite_de", {"subject": "x {{ link }}"}, token=org_admin)
    delete = api.call("DELETE", "/templates/tpl_system_invite_de", token=org_admin)
    assert (patch.status_code, patch.data["error"]["code"]) == (409, "template_read_only")
    assert (delete.status_code, delete.data["error"]["code"]) == (409, "template_read_only")


def test_a_copy_is_inactive_named_copy_of_and_owned_by_the_actors_organization(api, org_admin):
    copy = copy_of(api, org_admin)
    assert copy["name"] == "COPY OF invite (de), system default"
    assert (copy["state"], copy["owner"], copy["is_default"]) == ("INACTIVE", "org_a", False)
    assert copy["html"] == api.call("GET", "/templates/tpl_system_invite_de", token=org_admin).data["html"]
    listed = api.call("GET", "/templates", token=org_admin).data["items"]
    assert [item["id"] for item in listed] == [copy["id"]]


def test_editing_a_copy_checks_and_saves_it(api, org_admin):
    copy = copy_of(api, org_admin)
    response = api.call("PATCH", f"/templates/{copy['id']}", {"text": GOOD_TEXT, "name": "Unser Text"}, token=org_admin)
    assert response.status_code == 200
    assert (response.data["text"], response.data["name"]) == (GOOD_TEXT, "Unser Text")
    assert "template_changed" in [event.action for event in AuditEventModel.scan()]


@pytest.mark.parametrize(
    "text",
    [
        "{{ link }}{{ ''.__class__.__mro__ }}",
        "{{ link }}{% for x in %}",
        "{{ link }}{{ password_hash }}",
        "no link at all",
    ],
)
def test_an_unsafe_or_broken_edit_answers_422_and_changes_nothing(api, org_admin, text):
    copy = copy_of(api, org_admin)
    response = api.call("PATCH", f"/templates/{copy['id']}", {"text": text}, token=org_admin)
    assert (response.status_code, response.data["error"]["code"]) == (422, "template_invalid")
    assert api.call("GET", f"/templates/{copy['id']}", token=org_admin).data["text"] == copy["text"]


def test_activation_swaps_the_active_template_and_mail_uses_it(api, org_admin):
    first, second = copy_of(api, org_admin), copy_of(api, org_admin)
    api.call("PATCH", f"/templates/{first['id']}", {"subject": "Erste {{ org_name }}"}, token=org_admin)
    assert api.call("POST", f"/templates/{first['id']}/activate", token=org_admin).data["state"] == "ACTIVE"
    assert mail.find_template("invite", "de", "org_a").template_id == first["id"]
    assert api.call("POST", f"/templates/{second['id']}/activate", token=org_admin).data["state"] == "ACTIVE"
    assert api.call("GET", f"/templates/{first['id']}", token=org_admin).data["state"] == "INACTIVE"
    assert mail.find_template("invite", "de", "org_a").template_id == second["id"]
    assert mail.find_template("invite", "de", None).template_id == "tpl_system_invite_de"


def test_an_active_template_cannot_be_deleted_an_inactive_one_can(api, org_admin):
    copy = copy_of(api, org_admin)
    api.call("POST", f"/templates/{copy['id']}/activate", token=org_admin)
    refused = api.call("DELETE", f"/templates/{copy['id']}", token=org_admin)
    assert (refused.status_code, refused.data["error"]["code"]) == (409, "template_active")
    spare = copy_of(api, org_admin)
    assert api.call("DELETE", f"/templates/{spare['id']}", token=org_admin).status_code == 204
    assert api.call("GET", f"/templates/{spare['id']}", token=org_admin).status_code == 404


def test_preview_renders_sample_data(api, org_admin):
    response = api.call("GET", "/templates/tpl_system_invite_de/preview", token=org_admin)
    assert response.status_code == 200
    assert response.data["subject"] == "Einladung zu Stadtwerke Musterstadt bei keyport"
    assert MAIL_TYPES["invite"].sample["link"] in response.data["text"]


def test_a_test_mail_goes_to_the_given_address(api, org_admin, monkeypatch):
    import dataclasses

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    from chalicelib.config import get_settings

    monkeypatch.setattr(mail, "get_settings", lambda: dataclasses.replace(get_settings(), mail_backend="ses"))
    aws_client("ses").verify_email_identity(EmailAddress="no-reply@keyport.local")
    response = api.call(
        "POST", "/templates/tpl_system_activation_it/test", {"email": "qa@example.com"}, token=org_admin
    )
    assert response.status_code == 202 and response.data["message_id"]
    [sent] = ses_backends[DEFAULT_ACCOUNT_ID]["eu-central-1"].sent_messages
    assert set(sent.destinations) == {"qa@example.com"}
    assert "Attivi il suo dispositivo WM-00012345" in sent.raw_data


def test_a_failed_test_mail_answers_502_in_the_error_shape(api, org_admin, monkeypatch):
    import dataclasses

    from chalicelib.config import get_settings

    monkeypatch.setattr(mail, "get_settings", lambda: dataclasses.replace(get_settings(), mail_backend="ses"))
    response = api.call("POST", "/templates/tpl_system_invite_en/test", {"email": "qa@example.com"}, token=org_admin)
    assert (response.status_code, response.data["error"]["code"]) == (502, "mail_not_sent")


def test_templates_of_another_organization_answer_404(api, org_admin, login_as):
    copy = copy_of(api, org_admin)
    make_org("org_b")
    other = login_as("ORG_ADMIN", org_id="org_b", permissions=("templates.manage",))
    for method, path in [
        ("GET", ""),
        ("PATCH", ""),
        ("DELETE", ""),
        ("POST", "/activate"),
        ("POST", "/copy"),
        ("GET", "/preview"),
    ]:
        response = api.call(method, f"/templates/{copy['id']}{path}", {} if method != "GET" else None, token=other)
        assert response.status_code == 404, (method, path)
        assert copy["id"] not in response.body.decode()
    assert api.call("GET", "/templates?owner=org_a", token=other).status_code == 404


def test_copying_into_another_organization_is_refused_for_an_org_admin(api, org_admin):
    make_org("org_b")
    response = api.call("POST", "/templates/tpl_system_invite_de/copy", {"org_id": "org_b"}, token=org_admin)
    assert response.status_code == 404


def test_an_operator_may_activate_a_system_copy_that_then_serves_everyone(api, login_as, defaults):
    token = login_as("OPERATOR")
    copy = copy_of(api, token, "tpl_system_invite_nl")
    assert copy["owner"] == "system"
    api.call("POST", f"/templates/{copy['id']}/activate", token=token)
    assert mail.find_template("invite", "nl", None).template_id == copy["id"]
    assert api.call("GET", "/templates/tpl_system_invite_nl", token=token).data["state"] == "INACTIVE"
    sync_default_templates()  # a later sync keeps the operator's choice
    assert mail.find_template("invite", "nl", None).template_id == copy["id"]


def test_test_mails_are_throttled_per_account(api, org_admin, mailbox, monkeypatch):
    import dataclasses

    from chalicelib.config import get_settings
    from chalicelib.services.mail_templates import templates as template_service

    monkeypatch.setattr(mail, "get_settings", lambda: dataclasses.replace(get_settings(), mail_backend="ses"))
    monkeypatch.setattr(template_service, "TEST_MAILS_PER_HOUR", 2)
    statuses = [
        api.call(
            "POST", "/templates/tpl_system_invite_en/test", {"email": "qa@example.com"}, token=org_admin
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [202, 202, 429] and len(mailbox.messages(to="qa@example.com")) == 2


# Each of these froze the process or ate its memory while the save-time trial render ran (issue 17, item 4).
COSTLY = {
    "squaring_in_a_namespace": "{% set ns = namespace(v=10**22) %}{% for i in range(19) %}"
    "{% set ns.v = ns.v * ns.v %}{% endfor %}",
    "squaring_a_literal_in_a_namespace": "{% set ns = namespace(v=10000000000000000000000) %}"
    "{% for i in range(19) %}{% set ns.v = ns.v * ns.v %}{% endfor %}",
    "a_list_of_twenty_million": "{{ ([0]*20000000)|length }}",
    "a_fifty_million_wide_center": "{{ ('x'|center(50000000)) }}",
    "chained_replace_to_ten_million": "{{ 'xxxxxxxxxx'" + "|replace('x', 'xxxxxxxxxx')" * 6 + " }}",
    "a_format_width_from_the_arguments": "{{ ('{0!r:>{1}}'|attr('format'))(link, 99999999) }}",
}


@pytest.mark.parametrize("attack", COSTLY.values(), ids=COSTLY.keys())
def test_a_template_too_costly_to_render_answers_422_naming_why_and_changes_nothing(api, org_admin, attack):
    copy = copy_of(api, org_admin)
    response = api.call("PATCH", f"/templates/{copy['id']}", {"text": GOOD_TEXT + attack}, token=org_admin)
    assert (response.status_code, response.data["error"]["code"]) == (422, "template_invalid")
    assert "too costly" in response.data["error"]["message"] or "namespace" in response.data["error"]["message"]
    assert api.call("GET", f"/templates/{copy['id']}", token=org_admin).data["text"] == copy["text"]


def test_an_unknown_filter_answers_422_not_500(api, org_admin):
    copy = copy_of(api, org_admin)
    response = api.call(
        "PATCH", f"/templates/{copy['id']}", {"text": GOOD_TEXT + "{{ link | no_such_filter }}"}, token=org_admin
    )
    assert (response.status_code, response.data["error"]["code"]) == (422, "template_invalid")
    assert "no_such_filter" in response.data["error"]["message"]
