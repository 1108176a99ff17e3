"""Users: storage with unique e-mails, and how a user is shown."""

import functools
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from chalicelib import clock, models
from chalicelib.errors import Conflict, EmailTaken
from chalicelib.fields import normalize_email
from chalicelib.models import UserEmailModel, UserModel
from chalicelib.paging import binding, page
from chalicelib.security import hash_password, new_id
from chalicelib.services.tenants.counts import add_counts, user_changes

RETRIES = 3  # conditional count changes retried on a fresh read: more than this is a conflict to report


class UserChanged(Conflict):
    code, message = "user_changed", "The user changed meanwhile; reload and try again."


def insert_user(
    *,
    email: str,
    name: str,
    org_id: str,
    password: str,
    roles: Iterable[str],
    must_change_password: bool,
    permissions: Iterable[str] = (),
    site_ids: Iterable[str] = (),
    language: str = "en",
    phone: Optional[str] = None,
    created_by: Optional[str] = None,
    login_needs_reference: bool = False,
    csv_delimiter: str = ";",
    csv_thousands_separator: str = "",
    user_id: Optional[str] = None,
    also: Optional[Callable[[TransactWrite], None]] = None,
) -> UserModel:
    """Store a new user and claim its e-mail in one transaction; EmailTaken if the e-mail is in use.

    `also(transaction)` may add updates to the same transaction (e.g. spending an invitation); when one of
    those fails its condition, the TransactWriteError is raised as it is.
    """
    now = clock.now()
    user = UserModel(
        user_id or new_id("usr"),
        email=normalize_email(email),
        name=name,
        name_lower=name.lower(),
        org_id=org_id,
        phone=phone,
        roles=sorted(set(roles)),
        permissions=sorted(set(permissions)),
        site_ids=sorted(set(site_ids)),
        language=language,
        must_change_password=must_change_password,
        login_needs_reference=login_needs_reference,
        csv_delimiter=csv_delimiter,
        csv_thousands_separator=csv_thousands_separator,
        password_hash=hash_password(password),
        password_changed_at=now,
        created_at=now,
        created_by=created_by,
    )
    claim = UserEmailModel(user.email, user_id=user.user_id)
    try:
        with TransactWrite(connection=models.connection()) as transaction:
            transaction.save(claim, condition=UserEmailModel.email.does_not_exist())
            transaction.save(user, condition=UserModel.user_id.does_not_exist())
            add_counts(transaction, user_changes(None, user.org_id, user.roles))
            if also:
                also(transaction)
    except TransactWriteError as error:
        if 0 in failed_conditions(error):  # the e-mail claim: the first item (puts come before updates)
            raise EmailTaken() from None
        raise
    return user


def failed_conditions(error: TransactWriteError) -> list:
    """Indexes of the transaction items whose condition failed (in the order they were added per kind)."""
    reasons = getattr(error, "cancellation_reasons", None) or []
    return [
        index for index, reason in enumerate(reasons) if reason is not None and reason.code == "ConditionalCheckFailed"
    ]


def delete_user_record(user: UserModel) -> None:
    """Remove a user and its e-mail claim (undoing a creation whose credentials could not be delivered).

    The user's counts go down in the same transaction, which holds only while the user is still in the
    organization and roles it counted in; if it changed meanwhile the delete is retried on what it is now, and a
    user already gone is left gone (deleting twice counts once)."""
    current: Optional[UserModel] = user
    for _ in range(RETRIES):
        if current is None:
            return
        try:
            with TransactWrite(connection=models.connection()) as transaction:
                transaction.delete(current, condition=counted_as(current))
                transaction.delete(UserEmailModel(current.email), condition=UserEmailModel.user_id == current.user_id)
                add_counts(transaction, user_changes(current, None))
            return
        except TransactWriteError as error:
            if 0 not in failed_conditions(error):  # not the user's own condition: a real failure
                raise
        current = get_user(user.user_id)
    raise UserChanged()


def counted_as(user: UserModel) -> Condition:
    """The condition that the stored user still counts where `user` says: same organization, same roles."""
    return (UserModel.org_id == user.org_id) & (UserModel.roles == list(user.roles))


def find_user_by_email(email: str) -> Optional[UserModel]:
    """The user holding this e-mail, or None (consistent reads: no index lag)."""
    email = normalize_email(email)
    if not email:  # whitespace only: DynamoDB refuses an empty key, and nobody has this address
        return None
    try:
        claim = UserEmailModel.get(email, consistent_read=True)
        return UserModel.get(claim.user_id, consistent_read=True)
    except DoesNotExist:
        return None


def get_user(user_id: str) -> Optional[UserModel]:
    """The user with this id, or None."""
    try:
        return UserModel.get(user_id, consistent_read=True)
    except DoesNotExist:
        return None


def page_users_of_org(org_id: str, limit: int, cursor: Optional[str] = None) -> Tuple[List[UserModel], Optional[str]]:
    """One page of an organization's users, ordered by e-mail (an index query)."""
    return page(
        functools.partial(UserModel.org_index.query, org_id),
        limit,
        cursor,
        bound_to=binding("", "users_of_org", org_id=org_id),
    )


def user_view(user: UserModel) -> Dict[str, Any]:
    """A user as the API shows it: never the password hash."""
    return {
        "id": user.user_id,
        "name": user.name,
        "email": user.email,
        "phone": user.phone,
        "org_id": user.org_id,
        "roles": list(user.roles),
        "permissions": list(user.permissions),
        "site_ids": list(user.site_ids),
        "language": user.language,
        "csv_delimiter": user.csv_delimiter,
        "csv_thousands_separator": user.csv_thousands_separator,
        "status": user.status,
        "must_change_password": user.must_change_password,
        "created_at": user.created_at.isoformat(),
        "recipient_jwk": user.recipient_jwk,
    }
