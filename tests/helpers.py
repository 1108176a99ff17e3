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


def make_org(org_id, parent_id=ROOT_ORG_ID, name=None, **fields):
    """A stored organization under a parent (the root by default)."""
    from datetime import datetime, timezone

    from chalicelib.models import OrganizationModel

    ensure_root_org()
    parent = OrganizationModel.get(parent_id)
    name = name or f"Org {org_id}"
    org = OrganizationModel(org_id, name=name, name_lower=name.lower(), parent_id=parent_id,
                            path=f"{parent.path}{org_id}/", created_at=datetime.now(timezone.utc), **fields)
    org.save()
    return org
