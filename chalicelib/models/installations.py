"""Installations: a device an installer registered for a customer, waiting for (or past) activation."""

from pynamodb.attributes import JSONAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.models.meta import table_meta


class InstallationInstallerIndex(GlobalSecondaryIndex):
    """The installations an installer's organization registered, oldest first."""

    Meta = table_meta("", "installer_index")
    installer_org_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)  # "<created_at>#<installation_id>"


class InstallationCustomerIndex(GlobalSecondaryIndex):
    """The installations of a customer organization, oldest first."""

    Meta = table_meta("", "customer_index")
    customer_org_id = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class InstallationStateIndex(GlobalSecondaryIndex):
    """Installations by state, oldest first: the operator's list."""

    Meta = table_meta("", "state_index")
    state = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class InstallationModel(Model):
    """A device installed for a customer (PENDING until the customer activates it, ACTIVE, CANCELLED)."""

    Meta = table_meta("installations")
    installation_id = UnicodeAttribute(hash_key=True)
    state = UnicodeAttribute()
    serial = UnicodeAttribute()
    product_type = UnicodeAttribute()
    installer_org_id = UnicodeAttribute()
    installer_user_id = UnicodeAttribute()
    customer_org_id = UnicodeAttribute()
    customer_user_id = UnicodeAttribute()
    customer = JSONAttribute()  # {email, name, phone, address} as the installer entered, then the customer confirmed
    web_address = UnicodeAttribute(null=True)
    site_id = UnicodeAttribute(null=True)
    created_key = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    activation_expires_at = UTCDateTimeAttribute()
    activation_token_hash = UnicodeAttribute(null=True)  # the live link's token: a resend retires the one before
    activated_at = UTCDateTimeAttribute(null=True)
    ended_at = UTCDateTimeAttribute(null=True)  # CANCELLED by the installer or EXPIRED by the hourly job
    ended_by = UnicodeAttribute(null=True)
    installer_index = InstallationInstallerIndex()
    customer_index = InstallationCustomerIndex()
    state_index = InstallationStateIndex()
