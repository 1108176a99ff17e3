"""Every console page x every role: who gets the page, who gets 404 (a page outside one's roles does not exist for
them), that nobody signed out gets past the sign-in page, and that every form refuses a post without its token.

The table must name every page of chalicelib/web/console.PAGES: a new page without an entry fails the first test."""

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, FrozenSet, Optional

import pytest

import app  # noqa: F401  (registers the pages)
from chalicelib.models import BatchModel, RegistrationModel
from chalicelib.permissions import ROLES
from chalicelib.services.accounts.sessions import open_session
from chalicelib.web.console import PAGES
from tests.console_browser import Browser
from tests.helpers import make_org, make_user


@dataclass(frozen=True)
class PageCase:
    """Who may open a page (None: every signed-in person), and the path to open (for pages with parameters)."""

    roles: Optional[FrozenSet[str]] = None
    public: bool = False
    opened_at: Optional[str] = None  # a concrete path when the page's path has parameters
    form: Optional[dict] = None  # a valid-looking form for the CSRF test of a POST page
    given: Optional[Callable[[], None]] = None  # stores what the page at opened_at shows (it is 404 without)


EVERYONE = None
ADMINS = frozenset({"OPERATOR", "ORG_ADMIN"})
BATCH_READERS = frozenset({"ORG_ADMIN", "KEY_MANAGER", "VIEWER"})
BATCH_DECIDERS = frozenset({"ORG_ADMIN", "KEY_MANAGER"})
AUDIT_READERS = frozenset({"ORG_ADMIN"})
OPERATORS = frozenset({"OPERATOR"})


def a_pending_batch():
    """bat_matrix: a batch a maker sent to a partner, awaiting confirmation (both below the root)."""
    make_org("maker")
    make_org("partner")
    now = datetime.now(timezone.utc)
    BatchModel(
        "bat_matrix",
        org_id="maker",
        target_org_id="partner",
        reference="PO-1",
        requires_confirmation=True,
        state="PENDING",
        count=1,
        created_key=f"{now.isoformat()}#bat_matrix",
        created_at=now,
        created_by="usr_x",
    ).save()


def a_pending_registration():
    """reg_matrix: a company's registration awaiting the operator's review."""
    now = datetime.now(timezone.utc)
    RegistrationModel(
        "reg_matrix",
        kind="installer",
        state="PENDING",
        name="Ines",
        email="ines@example.com",
        company_name="Schmidt",
        created_key=f"{now.isoformat()}#reg_matrix",
        created_at=now,
    ).save()


PAGE_MATRIX = {
    ("/console/login", "GET"): PageCase(public=True),
    ("/console/login", "POST"): PageCase(public=True, form={"email": "a@example.com", "password": "x"}),
    ("/console/logout", "POST"): PageCase(EVERYONE, form={}),
    ("/console/", "GET"): PageCase(EVERYONE),
    ("/console/org", "POST"): PageCase(EVERYONE, form={"org_id": "root"}),
    ("/console/portal", "GET"): PageCase(public=True),
    ("/console/portal", "POST"): PageCase(public=True, form={"code": "ABCD-EFGH"}),
    ("/console/portal/leave", "POST"): PageCase(public=True, form={}),
    ("/console/batches/{batch_id}", "GET"): PageCase(
        BATCH_READERS, opened_at="/console/batches/bat_matrix", given=a_pending_batch
    ),
    ("/console/batches/{batch_id}/confirm", "POST"): PageCase(
        BATCH_DECIDERS, opened_at="/console/batches/bat_matrix/confirm", form={}
    ),
    ("/console/batches/{batch_id}/reject", "GET"): PageCase(
        BATCH_DECIDERS, opened_at="/console/batches/bat_matrix/reject", given=a_pending_batch
    ),
    ("/console/batches/{batch_id}/reject", "POST"): PageCase(
        BATCH_DECIDERS, opened_at="/console/batches/bat_matrix/reject", form={}
    ),
    ("/console/password", "GET"): PageCase(EVERYONE),
    ("/console/password", "POST"): PageCase(
        EVERYONE, form={"current_password": "x", "new_password": "y", "password_repeat": "y"}
    ),
    ("/console/forgot", "GET"): PageCase(public=True),
    ("/console/forgot", "POST"): PageCase(public=True, form={"email": "a@example.com"}),
    ("/console/profile", "GET"): PageCase(EVERYONE),
    ("/console/profile", "POST"): PageCase(EVERYONE, form={"name": "A", "language": "en"}),
    ("/console/profile/email", "POST"): PageCase(
        EVERYONE, form={"new_email": "b@example.com", "current_password": "x"}
    ),
    ("/console/profile/key", "POST"): PageCase(EVERYONE, form={"recipient_jwk": "{}"}),
    ("/console/profile/key/remove", "GET"): PageCase(EVERYONE),
    ("/console/profile/key/remove", "POST"): PageCase(EVERYONE, form={}),
    ("/console/register", "GET"): PageCase(public=True),
    ("/console/register", "POST"): PageCase(
        public=True, form={"kind": "installer", "name": "A", "email": "a@example.com", "company_name": "B"}
    ),
    ("/console/register/sent", "GET"): PageCase(public=True),
    ("/console/audit", "GET"): PageCase(AUDIT_READERS),
    ("/console/registrations", "GET"): PageCase(OPERATORS),
    ("/console/registrations/{registration_id}", "GET"): PageCase(
        OPERATORS, opened_at="/console/registrations/reg_matrix", given=a_pending_registration
    ),
    ("/console/registrations/{registration_id}/approve", "GET"): PageCase(
        OPERATORS, opened_at="/console/registrations/reg_matrix/approve", given=a_pending_registration
    ),
    ("/console/registrations/{registration_id}/approve", "POST"): PageCase(
        OPERATORS, opened_at="/console/registrations/reg_matrix/approve", form={"parent_id": "root"}
    ),
    ("/console/registrations/{registration_id}/reject", "GET"): PageCase(
        OPERATORS, opened_at="/console/registrations/reg_matrix/reject", given=a_pending_registration
    ),
    ("/console/registrations/{registration_id}/reject", "POST"): PageCase(
        OPERATORS, opened_at="/console/registrations/reg_matrix/reject", form={"reason": "No."}
    ),
}


def browser_of(api, role=None):
    """A browser signed in with one role (or anonymous)."""
    browser = Browser(api.client)
    if role:
        token, _ = open_session(make_user(email=f"{role.lower()}@example.com", roles=(role,)))
        browser.cookies["kp_session"] = token
    return browser


def path_of(spec):
    return PAGE_MATRIX[(spec.path, spec.method)].opened_at or spec.path


def test_every_console_page_has_an_entry_and_every_entry_a_page():
    pages = {(spec.path, spec.method) for spec in PAGES}
    assert sorted(pages - set(PAGE_MATRIX)) == [], "add the new pages to PAGE_MATRIX"
    assert sorted(set(PAGE_MATRIX) - pages) == []
    for spec in PAGES:
        case = PAGE_MATRIX[(spec.path, spec.method)]
        assert spec.public == case.public, spec.path
        assert spec.roles == case.roles, spec.path


GETS = [spec for spec in PAGES if spec.method == "GET"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("spec", [spec for spec in GETS if not spec.public], ids=lambda spec: spec.path)
def test_a_page_opens_for_the_roles_it_serves_and_is_not_found_for_the_others(api, spec, role):
    case = PAGE_MATRIX[(spec.path, spec.method)]
    if case.given:
        case.given()
    page = browser_of(api, role).get(path_of(spec))
    allowed = case.roles is None or role in case.roles or role == "OPERATOR"
    assert page.status_code == (200 if allowed else 404), page.text[:300]
    assert page.headers["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("spec", [spec for spec in GETS if spec.public], ids=lambda spec: spec.path)
def test_a_public_page_opens_for_anybody(api, spec):
    assert browser_of(api).get(path_of(spec)).status_code == 200


@pytest.mark.parametrize(
    "spec", [spec for spec in PAGES if not spec.public], ids=lambda spec: f"{spec.method} {spec.path}"
)
def test_nobody_signed_out_gets_past_the_sign_in_page(api, spec):
    browser = browser_of(api)
    answer = (
        browser.get(path_of(spec), follow=False)
        if spec.method == "GET"
        else browser.post(path_of(spec), PAGE_MATRIX[(spec.path, spec.method)].form or {}, csrf="x", follow=False)
    )
    assert answer.status_code == 303 and answer.headers["Location"].startswith("/console/login?next=")


@pytest.mark.parametrize("spec", [spec for spec in PAGES if spec.method == "POST"], ids=lambda spec: spec.path)
def test_every_form_refuses_a_post_without_its_token(api, spec):
    case = PAGE_MATRIX[(spec.path, spec.method)]
    browser = browser_of(api, None if case.public else "OPERATOR")
    answer = browser.post(path_of(spec), case.form or {}, csrf=None, follow=False)
    assert answer.status_code == 403 and "This form has expired" in answer.body.decode()
