"""Users, their e-mail claims, sessions, one-time tokens, login failures and throttles."""

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.models.meta import table_meta


class OneTimeTokenModel(Model):
    """A one-time token sent by mail (password reset, e-mail confirmation); only its SHA-256 is stored."""

    Meta = table_meta("one_time_tokens")
    token_hash = UnicodeAttribute(hash_key=True)
    purpose = UnicodeAttribute()
    user_id = UnicodeAttribute()
    new_email = UnicodeAttribute(null=True)
    target_id = UnicodeAttribute(null=True)  # what the token acts on (an installation to activate)
    created_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute()
    used_at = UTCDateTimeAttribute(null=True)
    ttl = TTLAttribute()


class UserOrgIndex(GlobalSecondaryIndex):
    """Users of an organization, ordered by e-mail."""

    Meta = table_meta("", "org_index")
    org_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute(range_key=True)


class UserModel(Model):
    """A person who logs in."""

    Meta = table_meta("users")
    user_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    org_id = UnicodeAttribute()
    phone = UnicodeAttribute(null=True)
    # ignore[arg-type] on each ListAttribute[str]: pynamodb types `of` as the element's Python type,
    # yet it takes the Attribute class; ListAttribute[str] gives the values their real type, list[str].
    roles = ListAttribute[str](of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
    permissions = ListAttribute[str](of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
    site_ids = ListAttribute[str](of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
    language = UnicodeAttribute(default="en")
    csv_delimiter = UnicodeAttribute(default=";")
    csv_thousands_separator = UnicodeAttribute(default="")
    status = UnicodeAttribute(default="ACTIVE")
    must_change_password = BooleanAttribute(default=False)
    # Split delivery: until the temporary password is changed, login also needs the organization's reference.
    login_needs_reference = BooleanAttribute(default=False)
    name_lower = UnicodeAttribute(null=True)
    password_hash = UnicodeAttribute()
    password_changed_at = UTCDateTimeAttribute()
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute(null=True)
    recipient_jwk = JSONAttribute(null=True)  # a public key: jwe key files are sealed for it
    org_index = UserOrgIndex()


class UserEmailModel(Model):
    """Claims an e-mail address for one user: makes e-mails unique by a conditional put."""

    Meta = table_meta("user_emails")
    email = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()


class SessionUserIndex(GlobalSecondaryIndex):
    """Sessions of a user, to end them all at once."""

    Meta = table_meta("", "user_index")
    user_id = UnicodeAttribute(hash_key=True)


class SessionModel(Model):
    """A login session; only the SHA-256 of its token is stored."""

    Meta = table_meta("sessions")
    token_hash = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    last_seen_at = UTCDateTimeAttribute()
    absolute_expires_at = UTCDateTimeAttribute()
    idle_expires_at = UTCDateTimeAttribute()
    # The organization a console session acts for, when its user switched to one below its own (None: its own).
    acting_org_id = UnicodeAttribute(null=True)
    # DynamoDB deletes late (up to days): the code checks the two expiries above itself.
    ttl = TTLAttribute()
    user_index = SessionUserIndex()


class LoginAttemptModel(Model):
    """Login attempts per e-mail (known or not), so lockout cannot reveal accounts: each attempt is counted
    before its password is checked, a success deletes the item."""

    Meta = table_meta("login_attempts")
    email_hash = UnicodeAttribute(hash_key=True)
    failures = NumberAttribute(default=0)  # attempts since the last success or lock end; locked at the threshold
    locked_until = UTCDateTimeAttribute(null=True)  # when a lock reached by the latest attempt ends
    ttl = TTLAttribute()


class RateLimitModel(Model):
    """A counter per action, subject and slot; a throttle's sliding window sums its slots (against guessing and
    mail floods)."""

    Meta = table_meta("rate_limits")
    bucket = UnicodeAttribute(hash_key=True)  # "<action>:<sha256 of the subject>:<slot number>"
    hits = NumberAttribute(default=0)
    ttl = TTLAttribute()

    @staticmethod
    def bucket_of(action: str, subject_hash: str, slot: int) -> str:
        """The bucket "<action>:<subject hash>:<slot number>": one action's count for one subject in one slot."""
        return f"{action}:{subject_hash}:{slot}"


# What catalog pages show: the device indexes carry these, never the wrapped keys or the code hashes.
