"""E-mail templates and which one is active."""

from typing import Optional

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

    @staticmethod
    def sort_key_prefix(mail_type: str, language: Optional[str] = None) -> str:
        """What the sort keys of one type (and language) begin with: "<type>#" or "<type>#<language>#"."""
        return f"{mail_type}#{language}#" if language else f"{mail_type}#"

    @classmethod
    def sort_key_of(cls, mail_type: str, language: str, template_id: str) -> str:
        """The sort_key "<type>#<language>#<template_id>": an owner's templates by type and language."""
        return cls.sort_key_prefix(mail_type, language) + template_id


class TemplateSlotModel(Model):
    """Which template is ACTIVE for one owner x type x language: one item, so one winner."""

    Meta = table_meta("template_slots")
    slot = UnicodeAttribute(hash_key=True)  # "<owner>#<type>#<language>"
    template_id = UnicodeAttribute()

    @staticmethod
    def slot_of(owner: str, mail_type: str, language: str) -> str:
        """The slot "<owner>#<type>#<language>" naming the ACTIVE template of an owner x type x language."""
        return f"{owner}#{mail_type}#{language}"
