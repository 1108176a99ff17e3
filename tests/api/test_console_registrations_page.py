"""The operator's registration pages: the list by state, one registration, approval below a chosen parent and
rejection with a reason, each after its question page and each decided once (a second attempt: 409, no mail)."""

import re

import pytest

from chalicelib.models import OrganizationModel, RegistrationModel
from chalicelib.services.tenants.users import find_user_by_email
from tests.conftest import run_queued_jobs
from tests.console_browser import Browser, text_of
from tests.helpers import make_org, make_user

APPLICANT = {
    "kind": "installer",
    "name": "Ines Installer",
    "email": "ines@schmidt.example",
    "company_name": "Schmidt Haustechnik",
    "company_address": "Hauptstr. 1, 24103 Kiel",
    "language": "de",
}


def register(api, **fields):
    """A registration as the public form sends it, taken by the worker; answers its id."""
    response = api.call("POST", "/public/registrations", {**APPLICANT, **fields})
    assert response.status_code == 202, response.body
    run_queued_jobs()
    [registration] = RegistrationModel.scan(RegistrationModel.email == fields.get("email", APPLICANT["email"]))
    return registration.registration_id


@pytest.fixture
def operator(api, mailbox):
    """A signed-in operator (English), with two installer groups to choose as parents."""
    make_org("dealers", name="Dealer Network")
    make_org("north", parent_id="dealers", name="Dealers North")
    make_user(email="ops@keyport.example", roles=("OPERATOR",), name="Otto Operator")
    browser = Browser(api.client)
    assert browser.sign_in("ops@keyport.example").status_code == 200
    return browser


def decision_mails(mailbox, kind):
    return [m for m in mailbox.messages(to=APPLICANT["email"]) if m["X-Keyport-Mail-Type"] == kind]


def test_the_list_shows_the_pending_registrations_and_the_tabs_the_others(api, operator, mailbox):
    register(api)
    decided = register(api, email="old@firm.example", company_name="Old Firm")
    RegistrationModel.get(decided).update(actions=[RegistrationModel.state.set("REJECTED")])
    page = operator.get("/console/registrations")
    words = text_of(page.text)
    assert page.status_code == 200 and "Schmidt Haustechnik" in words and "Old Firm" not in words
    assert "Showing 1 registration" in words and 'aria-current="page">Awaiting review' in page.text
    assert 'href="/console/registrations"' in page.text  # the area is in the navigation
    rejected = text_of(operator.get("/console/registrations?state=REJECTED").text)
    assert "Old Firm" in rejected and "Schmidt" not in rejected
    every = text_of(operator.get("/console/registrations?state=all").text)
    assert "Old Firm" in every and "Schmidt Haustechnik" in every and "Showing 2 registrations" in every


def test_an_approval_asks_for_the_parent_creates_the_company_below_it_and_mails_once(api, operator, mailbox):
    registration_id = register(api)
    path = f"/console/registrations/{registration_id}"
    page = operator.get(path)
    words = text_of(page.text)
    assert "Hauptstr. 1, 24103 Kiel" in words and "Deutsch" in words and "Awaiting review" in words
    question = operator.get(path + "/approve")
    assert question.status_code == 200 and RegistrationModel.get(registration_id).state == "PENDING"
    assert '<option value="north">· · Dealers North</option>' in question.text
    done = operator.post(path + "/approve", {"parent_id": "north"})
    assert done.status_code == 200 and done.path == path + "?done=approved" and 'role="status"' in done.text
    registration = RegistrationModel.get(registration_id)
    assert registration.state == "APPROVED"
    assert OrganizationModel.get(registration.org_id).parent_id == "north"
    assert find_user_by_email(APPLICANT["email"]).org_id == registration.org_id
    assert len(decision_mails(mailbox, "registration_approved")) == 1
    assert 'id="approve"' not in done.text and "Approved" in text_of(done.text)
    # a second decision (another tab left open): the 409 page, nothing changed, no second mail
    again = operator.post(path + "/approve", {"parent_id": "dealers"}, follow=False)
    assert again.status_code == 409 and "approved or rejected already" in text_of(again.text)
    rejected = operator.post(path + "/reject", {"reason": "Sorry."}, follow=False)
    assert rejected.status_code == 409 and RegistrationModel.get(registration_id).state == "APPROVED"
    assert len(decision_mails(mailbox, "registration_approved")) == 1
    assert decision_mails(mailbox, "registration_rejected") == []
    assert operator.get(path + "/approve").path == path  # decided: the question is no longer asked


def test_the_parent_search_narrows_the_choice_and_an_unknown_parent_is_refused_beside_its_field(api, operator, mailbox):
    registration_id = register(api)
    path = f"/console/registrations/{registration_id}/approve"
    found = operator.get(path + "?find=north")
    options = re.findall(r'<option value="([^"]+)"', found.text)
    assert options == ["north"] and 'value="north"' in found.text
    refused = operator.post(path, {"parent_id": "org_nowhere"}, follow=False)
    assert refused.status_code == 422 and 'id="parent_id-error"' in refused.text
    assert 'href="#parent_id"' in refused.text and RegistrationModel.get(registration_id).state == "PENDING"
    assert decision_mails(mailbox, "registration_approved") == []


def test_a_rejection_asks_first_needs_a_reason_keeps_it_and_mails_it_once(api, operator, mailbox):
    registration_id = register(api)
    path = f"/console/registrations/{registration_id}"
    question = operator.get(path + "/reject")
    assert question.status_code == 200 and "Schmidt Haustechnik" in text_of(question.text)
    empty = operator.post(path + "/reject", {"reason": "  "}, follow=False)
    assert empty.status_code == 422 and 'id="reason-error"' in empty.text
    assert RegistrationModel.get(registration_id).state == "PENDING"
    long = "Nicht im Vertriebsgebiet. " * 50
    too_long = operator.post(path + "/reject", {"reason": long}, follow=False)
    assert too_long.status_code == 422 and "Nicht im Vertriebsgebiet." in too_long.text  # the value is kept
    done = operator.post(path + "/reject", {"reason": "Nicht im Vertriebsgebiet."})
    assert done.path == path + "?done=rejected" and "Nicht im Vertriebsgebiet." in text_of(done.text)
    assert RegistrationModel.get(registration_id).state == "REJECTED"
    [mail] = decision_mails(mailbox, "registration_rejected")
    assert "Nicht im Vertriebsgebiet." in mailbox.text(mail)
    again = operator.post(path + "/reject", {"reason": "Again."}, follow=False)
    assert again.status_code == 409 and len(decision_mails(mailbox, "registration_rejected")) == 1


@pytest.mark.parametrize("role", ["ORG_ADMIN", "INSTALLER"])
def test_nobody_but_an_operator_sees_or_decides_a_registration(api, operator, mailbox, role):
    registration_id = register(api)
    make_user(email="someone@acme.example", roles=(role,))
    browser = Browser(api.client)
    home = browser.sign_in("someone@acme.example")
    assert 'href="/console/registrations"' not in home.text
    for path in ("/console/registrations", f"/console/registrations/{registration_id}"):
        page = browser.get(path)
        assert page.status_code == 404 and "Schmidt" not in page.text and "ines@" not in page.text
    browser.get("/console/")  # a page with a form: its token is a valid one
    refused = browser.post(f"/console/registrations/{registration_id}/approve", {"parent_id": "root"}, follow=False)
    assert refused.status_code == 404 and RegistrationModel.get(registration_id).state == "PENDING"


def test_an_unknown_registration_is_the_not_found_page(api, operator):
    for path in ("/console/registrations/reg_nothing", "/console/registrations/reg_nothing/approve"):
        assert operator.get(path).status_code == 404
    operator.get("/console/")
    assert operator.post("/console/registrations/reg_nothing/reject", {"reason": "x"}, follow=False).status_code == 404


def test_the_approved_installer_signs_in_with_the_mailed_password_and_must_choose_a_new_one(api, operator, mailbox):
    registration_id = register(api)
    operator.get(f"/console/registrations/{registration_id}/approve")
    operator.post(f"/console/registrations/{registration_id}/approve", {"parent_id": "dealers"})
    [mail] = decision_mails(mailbox, "registration_approved")
    temporary = re.search(r"Vorläufiges Passwort: (\S+)", mailbox.text(mail)).group(1)
    link = re.search(r"https://keyport\.test(/console/login\S*)", mailbox.text(mail)).group(1)
    installer = Browser(api.client)
    assert installer.get(link).status_code == 200
    page = installer.post("/console/login", {"email": APPLICANT["email"], "password": temporary})
    assert page.status_code == 200 and page.path == "/console/password" and '<html lang="de">' in page.text


def test_an_approval_whose_mail_fails_says_nothing_was_done(api, operator, mailbox, monkeypatch):
    from chalicelib.mail import MailNotSent
    from chalicelib.services.installers import registrations

    registration_id = register(api)
    operator.get(f"/console/registrations/{registration_id}/approve")

    def broken(*args, **kwargs):
        raise MailNotSent()

    monkeypatch.setattr(registrations, "send_mail", broken)
    page = operator.post(f"/console/registrations/{registration_id}/approve", {"parent_id": "north"})
    assert page.status_code == 502 and "Nothing was done. Please try again in a moment." in text_of(page.text)
    assert RegistrationModel.get(registration_id).state == "PENDING"
