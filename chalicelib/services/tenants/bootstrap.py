"""First start of a stage: the root organization and an operator account."""

from typing import Any, Dict, Optional

from pynamodb.exceptions import PutError

from chalicelib import clock
from chalicelib.errors import EmailTaken
from chalicelib.models import OrganizationModel, UserModel
from chalicelib.permissions import OPERATOR
from chalicelib.security import check_password_policy, new_temporary_password
from chalicelib.services.audit.record import record_event
from chalicelib.services.tenants.users import find_user_by_email, insert_user, user_view

ROOT_ORG_ID = "root"


def ensure_root_org() -> OrganizationModel:
    """The operators' organization at the top of the tree (created once)."""
    org = OrganizationModel(
        ROOT_ORG_ID,
        name="keyport operators",
        name_lower="keyport operators",
        reference="ROOT",
        path=OrganizationModel.path_of("/", ROOT_ORG_ID),
        can_create_orgs=True,
        created_at=clock.now(),
    )
    try:
        org.save(condition=OrganizationModel.org_id.does_not_exist())
    except PutError:
        org = OrganizationModel.get(ROOT_ORG_ID, consistent_read=True)
    return org


def find_operators(limit: int = 1) -> list:
    """Operators of the root organization (an index query, never a scan)."""
    found = []
    for user in UserModel.org_index.query(ROOT_ORG_ID):
        if OPERATOR in user.roles:
            found.append(user)
            if len(found) >= limit:
                break
    return found


def bootstrap_operator(email: str, password: Optional[str] = None) -> Dict[str, Any]:
    """Create an OPERATOR; without a password a temporary one is generated (must change at first login).

    Answers {"user", "created", "temporary_password"}; an existing account with that e-mail is
    left as it is (created False) so re-running is harmless.
    """
    if password is not None:
        check_password_policy(password)
    ensure_root_org()
    existing = find_user_by_email(email)
    if existing is not None:
        return {"user": user_view(existing), "created": False, "temporary_password": None}
    chosen = new_temporary_password() if password is None else password
    temporary = chosen if password is None else None
    try:
        user = insert_user(
            email=email,
            name="Operator",
            org_id=ROOT_ORG_ID,
            password=chosen,
            roles=[OPERATOR],
            must_change_password=password is None,
        )
    except EmailTaken:  # a concurrent bootstrap won
        winner = find_user_by_email(email)
        if winner is None:  # the address is claimed but its account is gone: nothing to answer with
            raise
        return {"user": user_view(winner), "created": False, "temporary_password": None}
    record_event("bootstrap", "operator_bootstrapped", ROOT_ORG_ID, target=user.user_id)
    return {"user": user_view(user), "created": True, "temporary_password": temporary}
