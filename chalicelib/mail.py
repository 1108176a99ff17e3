"""Mail: template lookup, sandboxed jinja2 rendering, and sending through SES or the local outbox."""

import functools
import logging
import os
import re
import secrets
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from typing import TYPE_CHECKING, Any, Dict, List, Optional, cast

from pynamodb.exceptions import DoesNotExist

from chalicelib import clock
from chalicelib.config import get_settings
from chalicelib.errors import Unprocessable, UpstreamFailed
from chalicelib.mail_types import FALLBACK_LANGUAGE, MAIL_TYPES
from chalicelib.mail_words import phrases
from chalicelib.models import MailTemplateModel, OrganizationModel, TemplateSlotModel
from chalicelib.observability import count_metric

if TYPE_CHECKING:  # imported on first use at run time
    from chalicelib.mail_sandbox import MailSandbox

log = logging.getLogger("keyport.mail")
SYSTEM = "system"
_MAX_ORG_DEPTH = 50  # a guard: the tree has no cycles, but a lookup must end regardless
_LINK = re.compile(r"https?://[^\s<>\"']+")
_SPACES = re.compile(r"[^\S\u00a0\u202f\u2007]+")  # white space but the no-break spaces


class TemplateInvalid(Unprocessable):
    code, message = "template_invalid", "The template cannot be used."


class MailNotSent(UpstreamFailed):
    code, message = "mail_not_sent", "The e-mail could not be sent; nothing was changed. Try again later."


@dataclass(frozen=True)
class RenderedMail:
    """A mail ready to send."""

    subject: str
    html: str
    text: str


@functools.lru_cache(maxsize=2)
def _environment(html: bool) -> "MailSandbox":
    # Imported on first use so `import app` stays light.
    from chalicelib.mail_sandbox import MailSandbox

    return MailSandbox(autoescape=html)


def check_template(mail_type: str, subject: str, html: str, text: str) -> None:
    """Refuse (TemplateInvalid) a template that would not render safely for its type: syntax, unknown
    or missing variables, sandbox escapes, and a trial render with the type's sample data."""
    from jinja2 import TemplateSyntaxError, meta, nodes

    kind = MAIL_TYPES[mail_type]
    for part, source in (("subject", subject), ("html", html), ("text", text)):
        environment = _environment(part == "html")
        try:
            tree = environment.parse(source)
            declared = meta.find_undeclared_variables(tree)  # also refuses an unknown filter or test
        except TemplateSyntaxError as error:
            raise TemplateInvalid(f"{part}: syntax error on line {error.lineno}: {error.message}") from None
        unknown = sorted(declared - kind.variables)
        if unknown:
            raise TemplateInvalid(
                f"{part}: unknown variable(s) {', '.join(unknown)}; a {mail_type} mail may use "
                f"{', '.join(sorted(kind.variables))}."
            )
        for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
            # cast: jinja2 types find_all of several node types as their common base (Expr)
            name = node.attr if isinstance(node, nodes.Getattr) else getattr(cast(nodes.Getitem, node).arg, "value", "")
            if isinstance(name, str) and name.startswith("_"):
                raise TemplateInvalid(f"{part}: access to {name!r} is not allowed.")
        if part != "subject":
            used = {node.name for node in tree.find_all(nodes.Name)}
            missing = sorted(kind.required - used)
            if missing:
                raise TemplateInvalid(f"{part}: must show {', '.join('{{ ' + m + ' }}' for m in missing)}.")
    render(subject, html, text, kind.sample)


def render(subject: str, html: str, text: str, variables: Dict[str, Any]) -> RenderedMail:
    """Render the three parts in the sandbox (HTML autoescaped); TemplateInvalid if any part fails."""
    from chalicelib.mail_sandbox import RenderRefused, budget, render_part

    try:
        with budget():  # one budget (time, output) for the whole mail
            rendered_subject = render_part(_environment(False), subject, variables)
            rendered_html = render_part(_environment(True), html, variables)
            rendered_text = render_part(_environment(False), text, variables)
    except RenderRefused as error:
        raise TemplateInvalid(f"The template is too costly to render: {error}"[:500]) from None
    except Exception as error:  # SecurityError, UndefinedError, TypeError, MemoryError ...: all mean "unusable"
        raise TemplateInvalid(f"The template fails to render: {type(error).__name__}: {error}"[:500]) from None
    # A subject is one header line: no line breaks may reach the MIME headers. Runs of any other white space
    # become one space, but a no-break space stays (French puts one before : ; ! ?).
    subject = _SPACES.sub(" ", rendered_subject).strip(" ")
    return RenderedMail(subject[:300], rendered_html, rendered_text)


def mail_values(language: str, variables: Dict[str, Any], thousands_separator: Optional[str] = None) -> Dict[str, Any]:
    """A mail's variables as its template sees them: the product's name, the given values, and the phrases of
    their numbers and moments in the language of the template (`device_count_text`: "1 Gerät", "250 Geräte")."""
    values = {"product_name": "keyport", **variables}
    return {**values, **phrases(language, values, thousands_separator)}


def sample_values(mail_type: str, language: str) -> Dict[str, Any]:
    """The sample data of a mail type with its phrases in the language (what a preview and a test mail show)."""
    return mail_values(language, MAIL_TYPES[mail_type].sample)


def owner_chain(org_id: Optional[str]) -> List[str]:
    """The organization, its parents up to the root, then "system": where templates are looked up."""
    chain: List[str] = []
    current = org_id
    while current and len(chain) < _MAX_ORG_DEPTH:
        chain.append(current)
        try:
            current = OrganizationModel.get(current).parent_id
        except DoesNotExist:
            break
    return chain + [SYSTEM]


def find_template(mail_type: str, language: str, org_id: Optional[str]) -> MailTemplateModel:
    """The most specific ACTIVE template: the organization, its parents, then system; English only as
    the fallback when no level has the language."""
    chain = owner_chain(org_id)
    for wanted in dict.fromkeys([language, FALLBACK_LANGUAGE]):
        keys = [TemplateSlotModel.slot_of(owner, mail_type, wanted) for owner in chain]
        slots = {slot.slot: slot.template_id for slot in TemplateSlotModel.batch_get(keys)}
        for key in keys:
            if key in slots:
                try:
                    return MailTemplateModel.get(slots[key])
                except DoesNotExist:
                    continue
    raise MailNotSent(f"No {mail_type} template exists; run `python -m chalicelib.cli sync-templates`.")


def public_link(path: str) -> str:
    """An absolute link for mail, built from the configured base URL (never from a request's Host)."""
    return get_settings().public_base_url + "/" + path.lstrip("/")


def send_mail(
    mail_type: str,
    to: str,
    language: str,
    org_id: Optional[str],
    variables: Dict[str, Any],
    thousands_separator: Optional[str] = None,
) -> str:
    """Render the most specific template of the type and send it; answer the message id. A caller that knows the
    recipient's profile passes its csv_thousands_separator: the mail's numbers are then grouped by it.

    Raises MailNotSent (the caller then leaves its own state unchanged) when it cannot be sent.
    """
    try:
        template = find_template(mail_type, language, org_id)
    except MailNotSent:  # no template at all (templates never synced): every mail of the type fails, say so
        count_metric("MailsFailed")
        raise
    try:
        # The template's language: a recipient whose language has no template reads English, phrases included.
        mail = render(
            template.subject,
            template.html,
            template.text,
            mail_values(template.language, variables, thousands_separator),
        )
    except TemplateInvalid as error:  # cannot happen for checked templates; never leak the variables
        log.error("mail %s: template %s does not render: %s", mail_type, template.template_id, error.message)
        count_metric("MailsFailed")
        raise MailNotSent() from None
    return deliver(to, mail, mail_type)


def deliver(to: str, mail: RenderedMail, mail_type: str) -> str:
    """Send a rendered mail through the configured backend; MailNotSent on failure."""
    settings = get_settings()
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.mail_sender, to, mail.subject
    message["Message-ID"] = make_msgid(domain=parseaddr(settings.mail_sender)[1].rpartition("@")[2] or None)
    message["X-Keyport-Mail-Type"] = mail_type
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    try:
        if settings.mail_backend == "outbox":
            return _write_to_outbox(message, mail, to, mail_type)
        response = _ses().send_raw_email(
            Source=settings.mail_sender, Destinations=[to], RawMessage={"Data": message.as_bytes()}
        )
        return response["MessageId"]
    except Exception as error:  # SES refusals, throttling, network, a full disk: the caller must know
        # The type of failure only: the message holds links with tokens and maybe a password.
        log.error("mail %s to a recipient failed: %s", mail_type, type(error).__name__)
        count_metric("MailsFailed")
        raise MailNotSent() from None


def send_sms(phone: str, text: str) -> str:
    """Send a text message through Amazon SNS (locally: into the outbox); MailNotSent on failure."""
    settings = get_settings()
    try:
        if settings.mail_backend == "outbox":
            path = _outbox_path("sms", "sms")
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(f"To: {phone}\n\n{text}\n")
            print(f"[sms] to {phone}: {text}", flush=True)
            return path
        attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
        if settings.sms_sender_id:  # the name shown as sender, where the recipient's country allows one
            attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": settings.sms_sender_id}
        return _sns().publish(PhoneNumber=phone, Message=text, MessageAttributes=attributes)["MessageId"]
    except Exception as error:  # the text holds a password: log the failure's type only
        log.error("sms failed: %s", type(error).__name__)
        count_metric("MailsFailed")
        raise MailNotSent("The text message could not be sent; nothing was changed. Try again later.") from None


@functools.lru_cache(maxsize=1)
def _sns() -> Any:  # boto3 clients are untyped here (no stubs installed)
    import boto3

    return boto3.client("sns", region_name=get_settings().region)


@functools.lru_cache(maxsize=1)
def _ses() -> Any:
    import boto3

    return boto3.client("ses", region_name=get_settings().region)


def _outbox_path(kind: str, extension: str) -> str:
    """A new file in $KEYPORT_HOME/outbox, named so that a listing sorts by time."""
    outbox = os.path.join(get_settings().keyport_home, "outbox")
    os.makedirs(outbox, exist_ok=True)
    stamp = clock.now().strftime("%Y%m%dT%H%M%S%f")
    return os.path.join(outbox, f"{stamp}-{kind}-{secrets.token_hex(3)}.{extension}")


def _write_to_outbox(message: EmailMessage, mail: RenderedMail, to: str, mail_type: str) -> str:
    path = _outbox_path(mail_type, "eml")
    with open(path, "wb") as handle:
        handle.write(message.as_bytes())
    # Local only: a person follows the links by hand (they hold tokens; SES never prints them).
    print(f"[mail] {mail_type} to {to}: {mail.subject}  ({path})", flush=True)
    for link in dict.fromkeys(_LINK.findall(mail.text)):
        print(f"[mail]   {link}", flush=True)
    return message["Message-ID"]
