"""Self-registrations of installers and system managers, waiting for an operator."""

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.models.meta import table_meta


class RegistrationStateIndex(GlobalSecondaryIndex):
    """Registrations by state, oldest first: the operator's review queue."""

    Meta = table_meta("", "state_index")
    state = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)  # "<created_at>#<registration_id>"


class RegistrationModel(Model):
    """A company asking to work with keyport (PENDING, APPROVED, REJECTED)."""

    Meta = table_meta("registrations")
    registration_id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()  # installer or system_manager
    state = UnicodeAttribute()
    name = UnicodeAttribute()
    email = UnicodeAttribute()
    phone = UnicodeAttribute(null=True)
    company_name = UnicodeAttribute()
    company_address = UnicodeAttribute(null=True)
    language = UnicodeAttribute(default="en")
    created_key = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    source_ip = UnicodeAttribute(null=True)
    decided_at = UTCDateTimeAttribute(null=True)
    decided_by = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    org_id = UnicodeAttribute(null=True)  # what an approval created
    user_id = UnicodeAttribute(null=True)
    state_index = RegistrationStateIndex()


class RegistrationEmailModel(Model):
    """Holds an e-mail address for its open registration: one registration per address, by a conditional put."""

    Meta = table_meta("registration_emails")
    email = UnicodeAttribute(hash_key=True)
    registration_id = UnicodeAttribute()
