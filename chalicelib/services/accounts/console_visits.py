"""The console's side of an account: a browser's sign-in (an API session behind a cookie: the same lockout,
throttles and idle timeout), the person a session belongs to, and the organization it acts for."""

from dataclasses import dataclass
from itertools import islice
from typing import Any, Dict, List, Optional

from chalicelib.models import OrganizationModel
from chalicelib.permissions import OPERATOR, ORG_ADMIN, Principal
from chalicelib.services.accounts import own_account, sessions
from chalicelib.services.audit.record import record_event
from chalicelib.services.tenants.orgs import OrgNotFound, get_org, in_scope, org_in_scope

# A switch list longer than this is no list to pick from: the organizations page (part 2) filters instead.
MAX_ORGS_TO_ACT_FOR = 200


@dataclass(frozen=True)
class Visitor:
    """A signed-in person as every console page shows them: who, in which language, acting for which organization."""

    principal: Principal
    name: str
    email: str
    language: str
    csv_delimiter: str
    thousands_separator: str
    org_name: str
    acting_org_id: str
    acting_org_name: str

    @property
    def may_switch_org(self) -> bool:
        """Administrators of a tree (and operators) act for the organizations below their own."""
        return self.principal.has_role(ORG_ADMIN, OPERATOR)


def sign_in(
    email: str,
    password: str,
    org_reference: Optional[str],
    source_ip: Optional[str],
    replacing: Optional[Principal] = None,
) -> Dict[str, Any]:
    """Sign a browser in: the session token (for its cookie), whether the password must change first, the
    person's language. Unknown address, wrong password and wrong reference fail alike (InvalidCredentials).
    A session the browser held before (`replacing`) ends: a cookie replaced is a session nobody can end."""
    result = own_account.log_in(email, password, org_reference or None, source_ip=source_ip)
    if replacing is not None:
        sessions.end_session(replacing.session_hash)
    return {
        "token": result["token"],
        "must_change_password": result["must_change_password"],
        "language": result["user"]["language"],
    }


def visitor_of(token: Optional[str]) -> Visitor:
    """The person behind a console session cookie (also while a password change is pending: the page decides);
    NotAuthenticated for a missing, ended or expired one."""
    session, user = sessions.live_session(token)
    principal = sessions.principal_of(user, session.token_hash)
    own = get_org(user.org_id)
    acting = get_org(session.acting_org_id) if session.acting_org_id else None
    if acting is None or not _may_act_for(principal, acting):
        if session.acting_org_id:  # switched to one since moved out of reach (or the role is gone): forget it
            sessions.set_acting_org(session.token_hash, None)
        acting = own
    return Visitor(
        principal=principal,
        name=user.name,
        email=user.email,
        language=user.language,
        csv_delimiter=user.csv_delimiter,
        thousands_separator=user.csv_thousands_separator,
        org_name=own.name if own else "",
        acting_org_id=acting.org_id if acting else user.org_id,
        acting_org_name=acting.name if acting else "",
    )


def sign_out(principal: Principal) -> None:
    """End the console session at once (the cookie alone is worth nothing afterwards)."""
    own_account.log_out(principal)


def orgs_to_act_for(principal: Principal) -> List[Dict[str, Any]]:
    """The organizations an administrator may act for: its own and those below it (tree order, indented by depth);
    nobody else switches."""
    if not principal.has_role(ORG_ADMIN, OPERATOR):
        return []
    own = org_in_scope(principal, principal.org_id)
    tree = OrganizationModel.tree_index.query("orgs", OrganizationModel.path.startswith(own.path))
    orgs = sorted(islice(tree, MAX_ORGS_TO_ACT_FOR), key=lambda org: org.path)
    base = own.path.count("/")
    return [{"id": org.org_id, "name": org.name, "depth": org.path.count("/") - base} for org in orgs]


def act_for_org(principal: Principal, org_id: str) -> Dict[str, str]:
    """Make the session act for an organization of the administrator's tree; OrgNotFound outside it."""
    org = get_org(org_id) if org_id else None
    if org is None or not _may_act_for(principal, org):
        raise OrgNotFound()
    sessions.set_acting_org(principal.session_hash, None if org.org_id == principal.org_id else org.org_id)
    record_event(principal.user_id, "acting_org_changed", principal.org_id, target=org.org_id)
    return {"id": org.org_id, "name": org.name}


def _may_act_for(principal: Principal, org: OrganizationModel) -> bool:
    return org.org_id == principal.org_id or (principal.has_role(ORG_ADMIN, OPERATOR) and in_scope(principal, org))
