"""The kinds of mail keyport sends: the variables each may use, must use, and sample data for previews.

A counted number comes with its phrase in the mail's language as `<name>_text` (chalicelib/mail_words.py makes it
when the mail is sent or previewed; the English sample here declares it)."""

from dataclasses import dataclass
from typing import Any, Dict, FrozenSet, Tuple

FALLBACK_LANGUAGE = "en"  # one of fields.LANGUAGES


@dataclass(frozen=True)
class MailType:
    """One kind of mail: its variables (all it may use), the ones it must show, and sample values."""

    name: str
    variables: FrozenSet[str]
    required: FrozenSet[str]
    sample: Dict[str, Any]


def _type(name: str, required: Tuple[str, ...], sample: Dict[str, Any]) -> MailType:
    base = {"recipient_name": "Ada Lovelace", "link": "https://keyport.example/start", "product_name": "keyport"}
    values = {**base, **sample}
    return MailType(name, frozenset(values), frozenset(("link",) + required), values)


MAIL_TYPES: Dict[str, MailType] = {
    mail_type.name: mail_type
    for mail_type in (
        _type(
            "invite",
            (),
            {
                "org_name": "Stadtwerke Musterstadt",
                "inviter_name": "Grace Hopper",
                "link": "https://keyport.example/invite/SAMPLE-TOKEN",
                "valid_days": 7,
                "valid_days_text": "7 days",
            },
        ),
        _type(
            "confirm_email",
            (),
            {
                "new_email": "ada.new@example.com",
                "link": "https://keyport.example/confirm-email/SAMPLE-TOKEN",
                "valid_hours": 24,
                "valid_hours_text": "24 hours",
            },
        ),
        _type(
            "password_reset",
            (),
            {
                "link": "https://keyport.example/reset-password/SAMPLE-TOKEN",
                "valid_minutes": 60,
                "valid_minutes_text": "60 minutes",
            },
        ),
        _type(
            "new_batch",
            (),
            {
                "org_name": "Stadtwerke Musterstadt",
                "sender_org_name": "Meter Works GmbH",
                "batch_reference": "PO-2026-0042",
                "device_count": 250,
                "device_count_text": "250 devices",
                "requires_confirmation": True,
                "link": "https://keyport.example/console/batches/bat_sample",
            },
        ),
        _type(
            "credentials",
            ("email", "temporary_password"),
            {
                "org_name": "Stadtwerke Musterstadt",
                "email": "ada@example.com",
                "temporary_password": "Xq7-sample-Pw!",
                "password_by_sms": False,
                "link": "https://keyport.example/console/login?email=ada%40example.com",
            },
        ),
        _type(
            "activation",
            (),
            {
                "installer_name": "Installateur Schmidt",
                "device_serial": "WM-00012345",
                "link": "https://keyport.example/activate/SAMPLE-TOKEN",
                "valid_days": 14,
                "valid_days_text": "14 days",
            },
        ),
        _type(
            "registration_received",
            (),
            {
                "company_name": "Schmidt Haustechnik",
                "account_exists": False,
                "link": "https://keyport.example/console/login?email=ada%40example.com",
            },
        ),
        _type(
            "registration_approved",
            ("email", "temporary_password"),
            {
                "company_name": "Schmidt Haustechnik",
                "email": "ada@example.com",
                "temporary_password": "Xq7-sample-Pw!",
                "link": "https://keyport.example/console/login?email=ada%40example.com",
            },
        ),
        _type(
            "registration_rejected",
            (),
            {
                "company_name": "Schmidt Haustechnik",
                "reason": "We could not verify the company address.",
                "link": "https://keyport.example/console/register",
            },
        ),
    )
}
