"""E-mail templates and which one is active."""
from pynamodb.attributes import BooleanAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.models.meta import table_meta


class TemplateOwnerIndex(GlobalSecondaryIndex):
    """Templates of one owner (an organization or "system"), ordered by type, language, id."""

    Meta = table_meta("", "owner_index")
    owner = UnicodeAttribute(hash_key=True)
    sort_key = UnicodeAttribute(range_key=True)

class MailTemplateModel(Model):
    """An e-mail template: a read-only system default, or an editable copy owned by an organization."""

    Meta = table_meta("mail_templates")
    template_id = UnicodeAttribute(hash_key=True)
    owner = UnicodeAttribute()  # "system" or an org_id
    sort_key = UnicodeAttribute()  # "<type>#<language>#<template_id>"
    mail_type = UnicodeAttribute()
    language = UnicodeAttribute()
    name = UnicodeAttribute()
    subject = UnicodeAttribute()
    html = UnicodeAttribute()
    text = UnicodeAttribute()
    state = UnicodeAttribute(default="INACTIVE")  # mirrors the slot pointer, written in the same transaction
    is_default = BooleanAttribute(default=False)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    updated_by = UnicodeAttribute(null=True)
    owner_index = TemplateOwnerIndex()

class TemplateSlotModel(Model):
    """Which template is ACTIVE for one owner x type x language: one item, so one winner."""

    Meta = table_meta("template_slots")
    slot = UnicodeAttribute(hash_key=True)  # "<owner>#<type>#<language>"
    template_id = UnicodeAttribute()
