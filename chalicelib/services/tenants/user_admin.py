"""Managing other users: list, create (with e-mailed or split credentials), update, disable, set a password."""

import functools
from typing import Any, Dict, List, Optional

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib import clock, models
from chalicelib.console_paths import sign_in_path
from chalicelib.errors import DomainError, Forbidden, NotFound, Unprocessable, ValidationFailed
from chalicelib.mail import public_link, send_mail, send_sms
from chalicelib.models import OrganizationModel, SiteModel, UserModel
from chalicelib.paging import binding, page_chain
from chalicelib.permissions import SITE_ADMIN, USERS_MANAGE, Principal, may_grant, require
from chalicelib.security import check_password_policy, hash_password, new_temporary_password
from chalicelib.services.accounts import sessions
from chalicelib.services.accounts.own_account import clear_login_failures
from chalicelib.services.audit.record import record_event
from chalicelib.services.tenants.counts import Changes, add_counts, user_changes, users_total
from chalicelib.services.tenants.orgs import listed_org_ids, org_id_in_scope, org_in_scope
from chalicelib.services.tenants.users import (
    UserChanged,
    counted_as,
    delete_user_record,
    failed_conditions,
    get_user,
    insert_user,
    user_view,
)

UPDATABLE = (
    "name",
    "phone",
    "roles",
    "permissions",
    "site_ids",
    "language",
    "csv_delimiter",
    "csv_thousands_separator",
    "status",
    "org_id",
)
SMS_TEXT = {
    "en": "keyport: your temporary password is {password}",
    "de": "keyport: Ihr vorläufiges Passwort lautet {password}",
    "es": "keyport: su contraseña temporal es {password}",
    "fr": "keyport : votre mot de passe provisoire est {password}",
    "it": "keyport: la sua password provvisoria è {password}",
    "sv": "keyport: ditt tillfälliga lösenord är {password}",
    "nl": "keyport: uw tijdelijke wachtwoord is {password}",
}


class UserNotFound(NotFound):
    code, message = "user_not_found", "No such user."


class GrantRefused(Forbidden):
    code = "grant_refused"
    message = "You cannot grant roles or permissions you do not have yourself."


class SitesRefused(Forbidden):
    code, message = "sites_refused", "You may only give sites of your own (at least one)."


class NoReference(Unprocessable):
    code = "org_reference_missing"
    message = "Split delivery needs the organization to have a reference (the second proof at first login)."


def _manageable(principal: Principal, user: Optional[UserModel]) -> UserModel:
    """The user if the principal may manage it: in scope, within its sites, and no more powerful than the principal."""
    if user is None or not org_id_in_scope(principal, user.org_id):
        raise UserNotFound()
    if principal.site_limited and not (user.site_ids and set(user.site_ids) <= principal.site_ids):
        raise UserNotFound()
    require(principal, USERS_MANAGE)
    if not may_grant(principal, user.roles, user.permissions, user.site_ids):
        raise Forbidden("This user has rights you do not have; ask someone above you.")
    return user


def check_grant(
    principal: Principal, org_id: str, roles: List[str], permissions: List[str], site_ids: List[str]
) -> None:
    """Refuse roles, permissions or sites the principal cannot give in that organization."""
    if principal.site_limited and not (site_ids and set(site_ids) <= principal.site_ids):
        raise SitesRefused()
    if not may_grant(principal, roles, permissions, site_ids):
        raise GrantRefused()
    if SITE_ADMIN in roles and not site_ids:
        raise ValidationFailed(
            "site_ids: a SITE_ADMIN needs at least one site.",
            details=[{"field": "site_ids", "problem": "is required for SITE_ADMIN"}],
        )
    found = {site.site_id: site for site in SiteModel.batch_get(site_ids)} if site_ids else {}
    unknown = [site_id for site_id in site_ids if site_id not in found or found[site_id].org_id != org_id]
    if unknown:
        raise ValidationFailed(
            f"site_ids: no site {unknown[0]} in that organization.",
            details=[{"field": "site_ids", "problem": "names a site outside the organization"}],
        )


def list_users(
    principal: Principal,
    name: Optional[str] = None,
    email: Optional[str] = None,
    org_id: Optional[str] = None,
    role: Optional[str] = None,
    limit: int = 50,
    cursor: Optional[str] = None,
) -> Dict[str, Any]:
    """Users of one organization in scope, or of the whole scope (filters name, e-mail prefix, role), and their
    total over every page (None with a name or e-mail filter, or for a site-limited reader)."""
    org_ids = listed_org_ids(principal, org_id)
    require(principal, USERS_MANAGE)
    email_condition = UserModel.email.startswith(email.strip().lower()) if email else None
    wanted = []
    if name:
        wanted.append(UserModel.name_lower.contains(name.lower()))
    if role:
        wanted.append(UserModel.roles.contains(role))
    filter_condition = functools.reduce(lambda a, b: a & b, wanted) if wanted else None
    queries = [
        functools.partial(UserModel.org_index.query, each, email_condition, filter_condition) for each in org_ids
    ]
    # A SITE_ADMIN's organization holds users of other sites: kept out of its pages and its cursors.
    select = (
        (lambda users: [(user, user) for user in users if user.site_ids and set(user.site_ids) <= principal.site_ids])
        if principal.site_limited
        else None
    )
    items, next_cursor = page_chain(
        queries,
        limit,
        cursor,
        select=select,
        bound_to=binding(principal.user_id, "users", name=name, email=email, org_id=org_id, role=role),
    )
    # The total answers the organization and role filters from counters; name and e-mail filters have none.
    total = None if name or email else users_total(principal, org_ids, role)
    return {"items": [user_view(user) for user in items], "next_cursor": next_cursor, "total": total}


def read_user(principal: Principal, user_id: str) -> Dict[str, Any]:
    """One user the principal may manage."""
    return user_view(_manageable(principal, get_user(user_id)))


def create_user(principal: Principal, fields: Dict[str, Any]) -> Dict[str, Any]:
    """Create a user; without a password its temporary one goes out by e-mail, or by SMS for split delivery."""
    org = org_in_scope(principal, fields.get("org_id") or principal.org_id)
    require(principal, USERS_MANAGE)
    roles, permissions = fields["roles"], fields.get("permissions", [])
    site_ids = fields.get("site_ids", [])
    check_grant(principal, org.org_id, roles, permissions, site_ids)
    split = fields.get("delivery") == "split"
    if split and not fields.get("phone"):
        raise ValidationFailed(
            "phone: split delivery sends the password by SMS and needs a phone number.",
            details=[{"field": "phone", "problem": "is required for split delivery"}],
        )
    if split and not org.reference:
        raise NoReference()
    if fields.get("password"):
        check_password_policy(fields["password"])
    temporary = None if fields.get("password") else new_temporary_password()
    language = fields.get("language", "en")
    user = insert_user(
        email=fields["email"],
        name=fields["name"],
        org_id=org.org_id,
        password=fields["password"] if temporary is None else temporary,
        roles=roles,
        permissions=permissions,
        site_ids=site_ids,
        language=language,
        phone=fields.get("phone"),
        must_change_password=True,
        created_by=principal.user_id,
        login_needs_reference=split,
        csv_delimiter=fields.get("csv_delimiter", ";"),
        csv_thousands_separator=fields.get("csv_thousands_separator", ""),
    )
    sent = []
    if temporary:
        try:
            sent = _deliver_credentials(user, org, temporary, split)
        except DomainError:
            delete_user_record(user)  # a user nobody can log in as must not remain
            raise
    record_event(
        principal.user_id,
        "user_created",
        org.org_id,
        target=user.user_id,
        detail={"roles": list(roles), "permissions": list(permissions), "delivery": fields.get("delivery", "email")},
    )
    return {**user_view(user), "sent": sent}


def _deliver_credentials(user: UserModel, org: OrganizationModel, temporary: str, split: bool) -> List[str]:
    if split:
        send_sms(user.phone, SMS_TEXT.get(user.language, SMS_TEXT["en"]).format(password=temporary))
    send_mail(
        "credentials",
        user.email,
        user.language,
        org.org_id,
        {
            "recipient_name": user.name,
            "org_name": org.name,
            "email": user.email,
            "temporary_password": None if split else temporary,
            "password_by_sms": split,
            "link": public_link(sign_in_path(user.email, user.language)),
        },
    )
    return ["sms", "credentials"] if split else ["credentials"]


def update_user(principal: Principal, user_id: str, changes: Dict[str, Any]) -> Dict[str, Any]:
    """Change a user's profile, roles, permissions, sites, organization or status."""
    user = _manageable(principal, get_user(user_id))
    target_org = user.org_id
    if "org_id" in changes:
        target_org = org_in_scope(principal, changes["org_id"]).org_id
    roles = changes.get("roles", list(user.roles))
    permissions = changes.get("permissions", list(user.permissions))
    site_ids = changes.get("site_ids", list(user.site_ids) if target_org == user.org_id else [])
    if {"roles", "permissions", "site_ids", "org_id"} & set(changes):
        check_grant(principal, target_org, roles, permissions, site_ids)
    if user.user_id == principal.user_id and {"roles", "permissions", "site_ids", "org_id", "status"} & set(changes):
        # Nobody raises, lowers or locks out their own account; someone else in scope does that.
        raise Forbidden("You cannot change your own roles, permissions, sites, organization or status.")
    values = {**{key: value for key, value in changes.items() if key in UPDATABLE}, "site_ids": site_ids}
    actions = [getattr(UserModel, key).set(value) for key, value in values.items()]
    if "name" in values:
        actions.append(UserModel.name_lower.set(values["name"].lower()))
    changes_counted = user_changes(user, target_org, roles)
    if changes_counted:
        _update_counted(user, actions, changes_counted)
        for key, value in values.items():  # the transaction does not refresh the object as update() does
            setattr(user, key, value)
    else:
        user.update(actions=actions, condition=UserModel.user_id.exists())
    if values.get("status") == "DISABLED":
        sessions.end_sessions_of_user(user.user_id)
    record_event(principal.user_id, "user_changed", target_org, target=user.user_id, detail={"fields": sorted(changes)})
    return user_view(user)


def _update_counted(user: UserModel, actions: List[Any], changes: Changes) -> None:
    """A change of organization or roles, with its count changes in one transaction; it holds only while the
    user still counts where it was read (a concurrent change of either makes it UserChanged)."""
    try:
        with TransactWrite(connection=models.connection()) as transaction:
            transaction.update(user, actions=actions, condition=counted_as(user))
            add_counts(transaction, changes)
    except TransactWriteError as error:
        if 0 in failed_conditions(error):  # the user's own update: puts and deletes come before it, none here
            raise UserChanged() from None
        raise


def disable_user(principal: Principal, user_id: str) -> None:
    """Deleting a user disables it (the audit trail keeps pointing at it) and ends its sessions."""
    update_user(principal, user_id, {"status": "DISABLED"})


def set_user_password(principal: Principal, user_id: str, new_password: str) -> None:
    """An administrator sets a password; the user must change it at the next login."""
    user = _manageable(principal, get_user(user_id))
    check_password_policy(new_password)
    user.update(
        actions=[
            UserModel.password_hash.set(hash_password(new_password)),
            UserModel.must_change_password.set(True),
            UserModel.password_changed_at.set(clock.now()),
        ]
    )
    sessions.end_sessions_of_user(user.user_id)
    clear_login_failures(user.email)
    record_event(principal.user_id, "user_password_set", user.org_id, target=user.user_id)
