"""E-mail templates: read-only system defaults, editable organization copies, atomic activation."""

import functools
import os
from typing import Any, Dict, Optional

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib import clock, models
from chalicelib.errors import Conflict, Forbidden, NotFound
from chalicelib.fields import LANGUAGES
from chalicelib.mail import SYSTEM, check_template, deliver, render, sample_values
from chalicelib.mail_types import MAIL_TYPES
from chalicelib.models import MailTemplateModel, OrganizationModel, TemplateSlotModel
from chalicelib.paging import binding, page
from chalicelib.permissions import Principal
from chalicelib.security import new_id
from chalicelib.services.audit.record import record_event
from chalicelib.services.throttle import hit

MANAGE = "templates.manage"
TEST_MAILS_PER_HOUR = 20
# the project's templates/mail: this file is chalicelib/services/mail_templates/templates.py
DEFAULTS_DIR = os.path.join(os.path.abspath(__file__).rsplit(os.sep, 4)[0], "templates", "mail")
EDITABLE = ("name", "subject", "html", "text")


class TemplateNotFound(NotFound):
    code, message = "template_not_found", "No such template."


class TemplateReadOnly(Conflict):
    code, message = "template_read_only", "System defaults are read-only: copy one and edit the copy."


class TemplateActive(Conflict):
    code, message = "template_active", "An active template cannot be deleted: activate another one first."


class ActivationRaced(Conflict):
    code, message = "activation_conflict", "Another activation for this type and language happened at once; retry."


def _require_manage(principal: Principal) -> None:
    if not principal.may(MANAGE):
        raise Forbidden("Managing e-mail templates needs the permission templates.manage.")


def _may_read(principal: Principal, owner: str) -> bool:
    return principal.is_operator or owner in (SYSTEM, principal.org_id)


def _may_write(principal: Principal, owner: str) -> bool:
    return principal.is_operator or owner == principal.org_id


def _load(principal: Principal, template_id: str) -> MailTemplateModel:
    try:
        template = MailTemplateModel.get(template_id, consistent_read=True)
    except DoesNotExist:
        raise TemplateNotFound() from None
    if not _may_read(principal, template.owner):
        raise TemplateNotFound()  # outside the scope: the same answer as unknown
    _require_manage(principal)
    return template


def _editable(principal: Principal, template_id: str) -> MailTemplateModel:
    template = _load(principal, template_id)
    if template.is_default:
        raise TemplateReadOnly()
    if not _may_write(principal, template.owner):
        raise TemplateNotFound()
    return template


def template_view(template: MailTemplateModel) -> Dict[str, Any]:
    """A template as the API shows it."""
    return {
        "id": template.template_id,
        "owner": template.owner,
        "org_id": None if template.owner == SYSTEM else template.owner,
        "type": template.mail_type,
        "language": template.language,
        "name": template.name,
        "subject": template.subject,
        "html": template.html,
        "text": template.text,
        "state": template.state,
        "active": template.state == "ACTIVE",
        "is_default": template.is_default,
        "read_only": template.is_default,
        "created_at": template.created_at.isoformat(),
        "updated_at": template.updated_at.isoformat(),
    }


def list_templates(
    principal: Principal,
    owner: Optional[str] = None,
    mail_type: Optional[str] = None,
    language: Optional[str] = None,
    active: Optional[bool] = None,
    limit: int = 50,
    cursor: Optional[str] = None,
) -> Dict[str, Any]:
    """One page of the templates of an owner (default: the actor's organization, "system" for operators)."""
    owner = owner or (SYSTEM if principal.is_operator else principal.org_id)
    if not _may_read(principal, owner):
        raise NotFound("No such owner.")
    _require_manage(principal)
    condition, wanted = None, []
    if mail_type:  # the sort key begins with type and language: they narrow the key range
        condition = MailTemplateModel.sort_key.startswith(MailTemplateModel.sort_key_prefix(mail_type, language))
    elif language:
        wanted.append(MailTemplateModel.language == language)
    if active is not None:
        wanted.append(MailTemplateModel.state == ("ACTIVE" if active else "INACTIVE"))
    filter_condition = functools.reduce(lambda a, b: a & b, wanted) if wanted else None
    query = functools.partial(MailTemplateModel.owner_index.query, owner, condition, filter_condition)
    items, next_cursor = page(
        query,
        limit,
        cursor,
        bound_to=binding(
            principal.user_id, "templates", owner=owner, mail_type=mail_type, language=language, active=active
        ),
    )
    return {"items": [template_view(item) for item in items], "next_cursor": next_cursor}


def get_template(principal: Principal, template_id: str) -> Dict[str, Any]:
    """One template in the actor's scope."""
    return template_view(_load(principal, template_id))


def update_template(principal: Principal, template_id: str, changes: Dict[str, str]) -> Dict[str, Any]:
    """Edit name, subject, html or text of an organization's template; the result must render safely."""
    template = _editable(principal, template_id)
    proposed = {field: changes.get(field, getattr(template, field)) for field in EDITABLE}
    check_template(template.mail_type, proposed["subject"], proposed["html"], proposed["text"])
    now = clock.now()
    actions = [getattr(MailTemplateModel, field).set(value) for field, value in proposed.items()]
    template.update(
        actions=actions + [MailTemplateModel.updated_at.set(now), MailTemplateModel.updated_by.set(principal.user_id)],
        condition=MailTemplateModel.template_id.exists(),
    )
    record_event(
        principal.user_id,
        "template_changed",
        _org_of(template),
        target=template.template_id,
        detail={"fields": sorted(field for field in changes if field in EDITABLE)},
    )
    return template_view(template)


def delete_template(principal: Principal, template_id: str) -> None:
    """Delete an INACTIVE organization template."""
    template = _editable(principal, template_id)
    if template.state == "ACTIVE":
        raise TemplateActive()
    try:
        template.delete(condition=MailTemplateModel.state == "INACTIVE")
    except DeleteError:  # activated meanwhile
        raise TemplateActive() from None
    record_event(principal.user_id, "template_deleted", _org_of(template), target=template.template_id)


def copy_template(principal: Principal, template_id: str, org_id: Optional[str] = None) -> Dict[str, Any]:
    """An INACTIVE "COPY OF <name>" for the given organization (default: the actor's; "system" for operators)."""
    source = _load(principal, template_id)
    owner = org_id or (SYSTEM if principal.is_operator else principal.org_id)
    if not _may_write(principal, owner) or (owner != SYSTEM and not _org_exists(owner)):
        raise NotFound("No such organization.")
    now = clock.now()
    copy_id = new_id("tpl")
    copy = MailTemplateModel(
        copy_id,
        owner=owner,
        sort_key=MailTemplateModel.sort_key_of(source.mail_type, source.language, copy_id),
        mail_type=source.mail_type,
        language=source.language,
        name=f"COPY OF {source.name}"[:200],
        subject=source.subject,
        html=source.html,
        text=source.text,
        state="INACTIVE",
        is_default=False,
        created_at=now,
        updated_at=now,
        updated_by=principal.user_id,
    )
    copy.save(condition=MailTemplateModel.template_id.does_not_exist())
    record_event(
        principal.user_id, "template_copied", _org_of(copy), target=copy_id, detail={"source": source.template_id}
    )
    return template_view(copy)


def activate_template(principal: Principal, template_id: str) -> Dict[str, Any]:
    """Make the template ACTIVE for its owner x type x language; the one it replaces becomes INACTIVE, atomically."""
    template = _load(principal, template_id)
    if not _may_write(principal, template.owner):
        raise TemplateNotFound()
    if template.state == "ACTIVE":
        return template_view(template)
    key = TemplateSlotModel.slot_of(template.owner, template.mail_type, template.language)
    try:
        current: Optional[str] = TemplateSlotModel.get(key, consistent_read=True).template_id
    except DoesNotExist:
        current = None
    slot = TemplateSlotModel(key, template_id=template.template_id)
    slot_condition = (TemplateSlotModel.template_id == current) if current else TemplateSlotModel.slot.does_not_exist()
    try:
        with TransactWrite(connection=models.connection()) as transaction:
            transaction.save(slot, condition=slot_condition)
            transaction.update(
                template,
                actions=[MailTemplateModel.state.set("ACTIVE")],
                condition=MailTemplateModel.template_id.exists(),
            )
            if current and current != template.template_id:
                transaction.update(
                    MailTemplateModel(current),
                    actions=[MailTemplateModel.state.set("INACTIVE")],
                    condition=MailTemplateModel.template_id.exists(),
                )
    except TransactWriteError:
        raise ActivationRaced() from None
    template.state = "ACTIVE"
    record_event(
        principal.user_id,
        "template_activated",
        _org_of(template),
        target=template.template_id,
        detail={"replaced": current},
    )
    return template_view(template)


def preview_template(principal: Principal, template_id: str) -> Dict[str, str]:
    """The template rendered with its type's sample data."""
    template = _load(principal, template_id)
    mail = render(template.subject, template.html, template.text, sample_values(template.mail_type, template.language))
    return {"subject": mail.subject, "html": mail.html, "text": mail.text}


def send_test_mail(principal: Principal, template_id: str, email: str) -> Dict[str, str]:
    """Send the template, rendered with sample data, to the given address."""
    template = _load(principal, template_id)
    hit("template_test_mail", principal.user_id, limit=TEST_MAILS_PER_HOUR, window_seconds=3600)
    mail = render(template.subject, template.html, template.text, sample_values(template.mail_type, template.language))
    message_id = deliver(email, mail, template.mail_type)
    record_event(principal.user_id, "template_test_sent", _org_of(template), target=template.template_id)
    return {"message_id": message_id}


def _org_of(template: MailTemplateModel) -> Optional[str]:
    return None if template.owner == SYSTEM else template.owner


def _org_exists(org_id: str) -> bool:
    return OrganizationModel.count(org_id, limit=1) > 0


def sync_default_templates() -> Dict[str, int]:
    """Load the system defaults from templates/mail/ (overwriting the stored defaults) and make each the
    ACTIVE system template of its slot unless an operator activated another."""
    now = clock.now()
    activated = 0
    with MailTemplateModel.batch_write() as batch:
        for (mail_type, language), parts in _checked_defaults().items():
            template_id = f"tpl_system_{mail_type}_{language}"
            slot = TemplateSlotModel(TemplateSlotModel.slot_of(SYSTEM, mail_type, language), template_id=template_id)
            try:
                slot.save(condition=TemplateSlotModel.slot.does_not_exist())
                activated += 1
                active = True
            except PutError:  # the slot exists: keep whatever an operator chose
                active = TemplateSlotModel.get(slot.slot, consistent_read=True).template_id == template_id
            batch.save(
                MailTemplateModel(
                    template_id,
                    owner=SYSTEM,
                    sort_key=MailTemplateModel.sort_key_of(mail_type, language, template_id),
                    mail_type=mail_type,
                    language=language,
                    name=f"{mail_type} ({language}), system default",
                    state="ACTIVE" if active else "INACTIVE",
                    is_default=True,
                    created_at=now,
                    updated_at=now,
                    subject=parts["subject"],
                    html=parts["html"],
                    text=parts["text"],
                )
            )
    return {"written": len(_checked_defaults()), "activated": activated}


@functools.lru_cache(maxsize=1)
def _checked_defaults() -> Dict[tuple, Dict[str, str]]:
    """Every default read from disk and checked like any template (once per process)."""
    defaults = {}
    for mail_type in MAIL_TYPES:
        for language in LANGUAGES:
            base = os.path.join(DEFAULTS_DIR, mail_type, language)
            with (
                open(base + ".subject.txt", encoding="utf-8") as subject,
                open(base + ".html", encoding="utf-8") as html,
                open(base + ".txt", encoding="utf-8") as text,
            ):
                parts = {"subject": subject.read().strip(), "html": html.read(), "text": text.read()}
            check_template(mail_type, parts["subject"], parts["html"], parts["text"])
            defaults[(mail_type, language)] = parts
    return defaults
