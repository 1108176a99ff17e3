"""Self-registration of installers and system managers: the public side, the mails, the operator's review."""

import re

import pytest

from chalicelib.models import AuditEventModel, OrganizationModel, RegistrationModel
from chalicelib.services.tenants.users import find_user_by_email
from tests.aws_calls import record_aws_operations
from tests.conftest import run_queued_jobs
from tests.helpers import make_user

APPLICANT = {
    "kind": "installer",
    "name": "Ines Installer",
    "email": "ines@schmidt.example",
    "phone": "+4915123456789",
    "company_name": "Schmidt Haustechnik",
    "company_address": "Hauptstr. 1, 24103 Kiel",
    "language": "de",
}
NEW_PASSWORD = "Installer-Passw0rd-1"


@pytest.fixture
def operator(login_as, mailbox):
    return login_as("OPERATOR", org_id="root")


def register(api, **fields):
    response = api.call("POST", "/public/registrations", {**APPLICANT, **fields})
    assert response.status_code == 202, response.body
    run_queued_jobs()  # the worker stores it and mails
    return response.data


def mail_types(mailbox, to):
    return [message["X-Keyport-Mail-Type"] for message in mailbox.messages(to=to)]


def pending(api, operator):
    response = api.call("GET", "/registrations?state=PENDING", token=operator)
    assert response.status_code == 200, response.body
    return response.data["items"]


def actions():
    return [event.action for event in AuditEventModel.scan()]


def test_a_new_address_is_registered_pending_and_gets_the_received_mail(api, operator, mailbox):
    answer = register(api)
    [registration] = pending(api, operator)
    assert registration["state"] == "PENDING" and registration["company_name"] == "Schmidt Haustechnik"
    assert registration["kind"] == "installer" and registration["email"] == "ines@schmidt.example"
    [message] = mailbox.messages(to="ines@schmidt.example")
    assert message["X-Keyport-Mail-Type"] == "registration_received"
    assert message["Subject"] == "Wir haben Ihre Registrierung erhalten"
    assert "Schmidt Haustechnik" in mailbox.text(message) and "bereits ein Konto" not in mailbox.text(message)
    assert "registration_received" in actions() and "message" in answer


def test_a_known_address_gets_the_same_answer_a_mail_saying_so_and_no_registration(api, operator, mailbox):
    make_user(email="ines@schmidt.example", roles=("VIEWER",))
    new = api.call("POST", "/public/registrations", {**APPLICANT, "email": "other@schmidt.example"})
    known = api.call("POST", "/public/registrations", APPLICANT)
    assert known.status_code == new.status_code == 202 and known.data == new.data
    run_queued_jobs()
    assert [item["email"] for item in pending(api, operator)] == ["other@schmidt.example"]
    [message] = mailbox.messages(to="ines@schmidt.example")
    assert message["X-Keyport-Mail-Type"] == "registration_received"
    assert "bereits ein Konto" in mailbox.text(message)


def test_a_registration_makes_the_same_aws_calls_for_a_known_and_a_new_address(api, operator, mailbox):
    make_user(email="ines@schmidt.example", roles=("VIEWER",))
    with record_aws_operations() as known:
        assert api.call("POST", "/public/registrations", APPLICANT).status_code == 202
    with record_aws_operations() as new:
        assert (
            api.call("POST", "/public/registrations", {**APPLICANT, "email": "new@schmidt.example"}).status_code == 202
        )
    assert known == new and known  # same calls, same order: the time tells nothing about the address
    assert mailbox.messages() == [] and pending(api, operator) == []  # storing and mailing are the worker's


def test_the_worker_stores_a_registration_once_even_when_its_message_comes_twice(api, operator, mailbox):
    from tests.conftest import aws_client

    api.call("POST", "/public/registrations", APPLICANT)
    url = aws_client("sqs").get_queue_url(QueueName="keyport-test-exports")["QueueUrl"]
    [message] = aws_client("sqs").receive_message(QueueUrl=url).get("Messages", [])
    aws_client("sqs").send_message(QueueUrl=url, MessageBody=message["Body"])  # SQS delivers at least once
    aws_client("sqs").change_message_visibility(
        QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
    )
    run_queued_jobs()
    assert len(pending(api, operator)) == 1
    assert mail_types(mailbox, "ines@schmidt.example") == ["registration_received"]


def test_a_registration_whose_mail_fails_is_taken_back_and_audited(api, operator, mailbox, monkeypatch):
    from chalicelib.mail import MailNotSent
    from chalicelib.services.installers import registrations

    def broken(*args, **kwargs):
        raise MailNotSent()

    monkeypatch.setattr(registrations, "send_mail", broken)
    assert api.call("POST", "/public/registrations", APPLICANT).status_code == 202
    run_queued_jobs()
    assert pending(api, operator) == [] and "registration_mail_failed" in actions()
    monkeypatch.undo()
    register(api)  # the address is free: the person may try again
    assert len(pending(api, operator)) == 1


def test_registering_twice_while_pending_creates_no_second_registration(api, operator, mailbox):
    register(api)
    register(api, company_name="Schmidt Haustechnik GmbH")
    assert len(pending(api, operator)) == 1
    assert mail_types(mailbox, "ines@schmidt.example") == ["registration_received"] * 2


def test_one_address_is_throttled_after_three_registrations_an_hour(api, operator):
    for _ in range(3):
        register(api)
    response = api.call("POST", "/public/registrations", APPLICANT)
    assert response.status_code == 429 and response.data["error"]["code"] == "too_many_requests"


@pytest.mark.parametrize("kind, role", [("installer", "INSTALLER"), ("system_manager", "ORG_ADMIN")])
def test_approval_creates_the_company_and_its_first_user_who_must_change_the_mailed_password(
    api, operator, mailbox, kind, role
):
    register(api, kind=kind)
    [registration] = pending(api, operator)
    approved = api.call("POST", f"/registrations/{registration['id']}/approve", token=operator)
    assert approved.status_code == 200, approved.body
    assert approved.data["state"] == "APPROVED" and approved.data["org_id"] and approved.data["user_id"]
    org = OrganizationModel.get(approved.data["org_id"])
    assert org.name == "Schmidt Haustechnik" and org.parent_id == "root"
    user = find_user_by_email("ines@schmidt.example")
    assert user.roles == [role] and user.org_id == org.org_id and user.must_change_password
    assert user.language == "de" and user.phone == "+4915123456789"
    message = mailbox.messages(to="ines@schmidt.example")[-1]
    assert message["X-Keyport-Mail-Type"] == "registration_approved"
    temporary = re.search(r"Passwort: (\S+)", mailbox.text(message)).group(1)
    login = api.call("POST", "/auth/login", {"email": "ines@schmidt.example", "password": temporary})
    assert login.status_code == 200 and login.data["must_change_password"]
    token = login.data["token"]
    assert api.call("GET", "/installations", token=token).data["error"]["code"] == "password_change_required"
    assert (
        api.call(
            "POST", "/me/password", {"current_password": temporary, "new_password": NEW_PASSWORD}, token=token
        ).status_code
        == 204
    )
    assert "registration_approved" in actions()


def test_rejection_mails_the_reason_and_frees_the_address(api, operator, mailbox):
    register(api)
    [registration] = pending(api, operator)
    rejected = api.call(
        "POST",
        f"/registrations/{registration['id']}/reject",
        {"reason": "Wir konnten die Firmenadresse nicht bestätigen."},
        token=operator,
    )
    assert rejected.status_code == 200 and rejected.data["state"] == "REJECTED"
    message = mailbox.messages(to="ines@schmidt.example")[-1]
    assert message["X-Keyport-Mail-Type"] == "registration_rejected"
    assert "Wir konnten die Firmenadresse nicht bestätigen." in mailbox.text(message)
    assert find_user_by_email("ines@schmidt.example") is None
    register(api)  # a rejected company may apply again
    assert len(pending(api, operator)) == 1 and "registration_rejected" in actions()


@pytest.mark.parametrize(
    "first, second", [("approve", "approve"), ("approve", "reject"), ("reject", "approve"), ("reject", "reject")]
)
def test_a_decision_is_taken_once(api, operator, first, second):
    register(api)
    [registration] = pending(api, operator)
    body = {"reason": "No."}
    assert (
        api.call(
            "POST", f"/registrations/{registration['id']}/{first}", body if first == "reject" else {}, token=operator
        ).status_code
        == 200
    )
    again = api.call(
        "POST", f"/registrations/{registration['id']}/{second}", body if second == "reject" else {}, token=operator
    )
    assert again.status_code == 409 and again.data["error"]["code"] == "registration_decided"
    assert RegistrationModel.get(registration["id"]).state == ("APPROVED" if first == "approve" else "REJECTED")


def test_approval_of_an_address_taken_meanwhile_answers_409_and_stays_pending(api, operator):
    register(api)
    [registration] = pending(api, operator)
    make_user(email="ines@schmidt.example")
    response = api.call("POST", f"/registrations/{registration['id']}/approve", token=operator)
    assert response.status_code == 409 and response.data["error"]["code"] == "email_taken"
    assert RegistrationModel.get(registration["id"]).state == "PENDING"
    assert OrganizationModel.count() == 1  # only root: no company organization was left behind


def test_a_failed_approval_mail_leaves_nothing_behind(api, operator, monkeypatch):
    from chalicelib.mail import MailNotSent
    from chalicelib.services.installers import registrations

    register(api)
    [registration] = pending(api, operator)

    def broken(*args, **kwargs):
        raise MailNotSent()

    monkeypatch.setattr(registrations, "send_mail", broken)
    response = api.call("POST", f"/registrations/{registration['id']}/approve", token=operator)
    assert response.status_code == 502
    assert RegistrationModel.get(registration["id"]).state == "PENDING"
    assert find_user_by_email("ines@schmidt.example") is None and OrganizationModel.count() == 1


def test_the_list_pages_through_every_state(api, operator):
    for number in range(3):
        register(api, email=f"applicant{number}@example.com")
    first = pending(api, operator)[0]
    api.call("POST", f"/registrations/{first['id']}/reject", {"reason": "No."}, token=operator)
    page = api.call("GET", "/registrations?limit=2", token=operator).data
    rest = api.call("GET", f"/registrations?limit=2&cursor={page['next_cursor']}", token=operator).data
    states = [item["state"] for item in page["items"] + rest["items"]]
    assert states == ["PENDING", "PENDING", "REJECTED"] and rest["next_cursor"] is None


@pytest.mark.parametrize(
    "field, value",
    [
        ("kind", "plumber"),
        ("email", "not-an-address"),
        ("language", "pl"),
        ("phone", "0431 12345"),
        ("company_name", ""),
    ],
)
def test_a_bad_registration_answers_422_and_stores_nothing(api, operator, field, value):
    response = api.call("POST", "/public/registrations", {**APPLICANT, field: value})
    assert response.status_code == 422 and response.data["error"]["code"] == "validation_failed"
    assert pending(api, operator) == []


@pytest.mark.parametrize("role", ["ORG_ADMIN", "INSTALLER", "CUSTOMER"])
def test_only_operators_review_registrations(api, login_as, mailbox, role):
    register(api)
    token = login_as(role)
    registration_id = RegistrationModel.scan().next().registration_id
    assert api.call("GET", "/registrations", token=token).status_code == 403
    assert api.call("POST", f"/registrations/{registration_id}/approve", token=token).status_code == 403
