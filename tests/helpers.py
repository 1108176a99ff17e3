"""Helpers shared by the test tiers."""
from chalicelib.services.bootstrap import ROOT_ORG_ID, ensure_root_org
from chalicelib.services.users import insert_user

STRONG_PASSWORD = "Correct-Horse-9-Battery"


def make_user(email="user@example.com", password=STRONG_PASSWORD, roles=("VIEWER",), org_id=ROOT_ORG_ID,
              must_change_password=False, **fields):
    """A stored user (and the root organization) for a test."""
    ensure_root_org()
    return insert_user(email=email, name=fields.pop("name", "Test User"), org_id=org_id, password=password,
                       roles=roles, must_change_password=must_change_password, **fields)
