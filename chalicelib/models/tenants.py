"""Organizations, partner links (and the requests for them) and sites."""

from typing import Optional

from pynamodb.attributes import BooleanAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.models.meta import table_meta


class OrgParentIndex(GlobalSecondaryIndex):
    """Children of an organization."""

    Meta = table_meta("", "parent_index")
    parent_id = UnicodeAttribute(hash_key=True)


class OrgTreeIndex(GlobalSecondaryIndex):
    """Every organization by its path: a subtree is one begins_with query."""

    Meta = table_meta("", "tree_index")
    tree = UnicodeAttribute(hash_key=True)
    path = UnicodeAttribute(range_key=True)


class OrganizationModel(Model):
    """An organization: a node of the tenant tree."""

    Meta = table_meta("organizations")
    org_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    name_lower = UnicodeAttribute(null=True)  # for case-insensitive name filters
    reference = UnicodeAttribute(null=True)
    parent_id = UnicodeAttribute(null=True)
    # "/root/<id>/.../<own id>/": the ancestors, so scope checks need one read and subtrees one query.
    path = UnicodeAttribute(null=True)
    tree = UnicodeAttribute(default="orgs")
    can_create_orgs = BooleanAttribute(default=False)
    prefix = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    parent_index = OrgParentIndex()
    tree_index = OrgTreeIndex()

    @staticmethod
    def path_of(parent_path: str, org_id: str) -> str:
        """The path of an organization under a parent whose path is given ("/" for the root itself)."""
        return f"{parent_path}{org_id}/"

    @staticmethod
    def path_holds(path: Optional[str], org_id: str) -> bool:
        """The path passes through the organization (it is that organization or one below it)."""
        return f"/{org_id}/" in (path or "")


class PartnerModel(Model):
    """A partner link from one organization to another (written in both directions)."""

    Meta = table_meta("org_partners")
    org_id = UnicodeAttribute(hash_key=True)
    partner_org_id = UnicodeAttribute(range_key=True)
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute()


class PartnerRequestModel(Model):
    """A pending request for a partner link, written for both organizations: the asker's "outgoing" row and the
    asked one's "incoming" row (one pair, one row each side: a repeated request finds its own row)."""

    Meta = table_meta("partner_requests")
    org_id = UnicodeAttribute(hash_key=True)
    partner_org_id = UnicodeAttribute(range_key=True)
    direction = UnicodeAttribute()  # "outgoing": org_id asked partner_org_id; "incoming": partner_org_id asked
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute()
    expires_at = UTCDateTimeAttribute()
    ttl = TTLAttribute()


class SiteOrgIndex(GlobalSecondaryIndex):
    """Sites of an organization."""

    Meta = table_meta("", "org_index")
    org_id = UnicodeAttribute(hash_key=True)
    site_id = UnicodeAttribute(range_key=True)


class SiteModel(Model):
    """A location of a customer organization."""

    Meta = table_meta("sites")
    site_id = UnicodeAttribute(hash_key=True)
    org_id = UnicodeAttribute()
    name = UnicodeAttribute()
    address = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute()
    org_index = SiteOrgIndex()
