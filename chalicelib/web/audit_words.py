"""What the audit trail's events say in words: each action as a short sentence, the actors that are no person,
and the labels of the details events carry (a key download's format, filter and count)."""

from typing import Any, Dict, List, Tuple

from chalicelib.web.catalogs import N_

ACTIONS = {
    "account_locked": N_("Account locked after failed sign-ins"),
    "acting_org_changed": N_("Switched the organization acted for"),
    "batch_confirmed": N_("Confirmed a batch"),
    "batch_created": N_("Sent a batch"),
    "batch_rejected": N_("Rejected a batch"),
    "device_changed": N_("Changed a device"),
    "device_claim_failed": N_("Device claim refused"),
    "device_claimed": N_("Claimed a device"),
    "device_ownership_taken": N_("Took over a device"),
    "device_released": N_("Released a device"),
    "devices_imported": N_("Imported devices"),
    "email_change_refused_password": N_("E-mail change refused: wrong password"),
    "email_change_refused_taken": N_("E-mail change refused: address in use"),
    "email_change_requested": N_("Asked to change the e-mail address"),
    "email_changed": N_("Confirmed a new e-mail address"),
    "installation_activated": N_("Activated an installation"),
    "installation_activation_resent": N_("Sent an activation mail again"),
    "installation_cancelled": N_("Cancelled an installation"),
    "installation_check_failed": N_("Device check found no device"),
    "installation_created": N_("Registered an installation"),
    "installation_expired": N_("An installation expired before activation"),
    "installation_for_foreign_address": N_("Registered an installation for an address another account holds"),
    "invitation_accepted": N_("Accepted an invitation"),
    "invitation_changed": N_("Changed an invitation"),
    "invitation_created": N_("Created an invitation"),
    "invitation_expired": N_("An invitation expired"),
    "invitation_resent": N_("Sent an invitation again"),
    "invitation_revoked": N_("Revoked an invitation"),
    "invitation_sent": N_("Sent an invitation"),
    "keys_download_refused": N_("Key download refused"),
    "keys_downloaded": N_("Downloaded keys"),
    "keys_export_fetched": N_("Fetched a key export"),
    "keys_export_requested": N_("Asked for a key export"),
    "login": N_("Signed in"),
    "login_failed": N_("Sign-in failed"),
    "login_refused_locked": N_("Sign-in refused: account locked"),
    "logout": N_("Signed out"),
    "operator_bootstrapped": N_("Created the first operator"),
    "org_changed": N_("Changed an organization"),
    "org_created": N_("Created an organization"),
    "org_moved": N_("Moved an organization"),
    "partner_added": N_("Linked two partners"),
    "partner_removed": N_("Removed a partner"),
    "partner_request_accepted": N_("Accepted a partner request"),
    "partner_request_cancelled": N_("Withdrew a partner request"),
    "partner_request_declined": N_("Declined a partner request"),
    "partner_requested": N_("Asked for a partner link"),
    "password_change_failed": N_("Password change refused: wrong password"),
    "password_changed": N_("Changed the password"),
    "password_reset": N_("Set a new password by reset link"),
    "password_reset_mail_failed": N_("A password reset mail could not be sent"),
    "password_reset_requested": N_("Asked for a password reset link"),
    "portal_access_enabled": N_("Opened customer-portal access"),
    "portal_access_regenerated": N_("Renewed a customer-portal access code"),
    "portal_access_revoked": N_("Revoked customer-portal access"),
    "portal_login": N_("Customer-portal sign-in"),
    "portal_login_failed": N_("Customer-portal sign-in failed"),
    "profile_changed": N_("Changed the profile"),
    "registration_approved": N_("Approved a registration"),
    "registration_mail_failed": N_("A registration mail could not be sent"),
    "registration_received": N_("A registration arrived"),
    "registration_refused": N_("A registration was refused"),
    "registration_rejected": N_("Rejected a registration"),
    "site_changed": N_("Changed a site"),
    "site_created": N_("Created a site"),
    "site_deleted": N_("Deleted a site"),
    "template_activated": N_("Activated a mail template"),
    "template_changed": N_("Changed a mail template"),
    "template_copied": N_("Copied a mail template"),
    "template_deleted": N_("Deleted a mail template"),
    "template_test_sent": N_("Sent a test mail of a template"),
    "user_changed": N_("Changed a person"),
    "user_created": N_("Added a person"),
    "user_password_set": N_("Set a person's password"),
}
# Actors that are no person: the system's own tasks and visitors not signed in.
ACTORS = {
    "anonymous": N_("Someone not signed in"),
    "public": N_("Someone not signed in"),
    "portal": N_("A customer in the customer portal"),
    "scheduler": N_("keyport (scheduled task)"),
    "bootstrap": N_("keyport (setup)"),
    "cli": N_("keyport (command line)"),
}
OPERATOR_ACTOR = N_("A keyport operator")
STRANGER = N_("A person of another organization")
DETAILS = {
    "count": N_("Count"),
    "export_id": N_("Export"),
    "fields": N_("Fields changed"),
    "filter": N_("Filter"),
    "format": N_("Format"),
    "from": N_("From"),
    "kind": N_("Kind"),
    "minutes": N_("Minutes locked"),
    "parent_id": N_("Parent organization"),
    "previous_owner": N_("Previous owner"),
    "reason": N_("Reason"),
    "scope_type": N_("Scope"),
    "serial": N_("Serial number"),
    "source": N_("Copied from"),
    "source_ip": N_("Network address"),
    "subtree": N_("Organizations moved"),
    "to": N_("To"),
}
NO_FILTER = N_("none (every claimed device)")
LABELLED = N_("%(label)s: %(detail)s")  # a detail's name and value (French puts a no-break space before the colon)


def detail_lines(words: Any, detail: Any, number: Any) -> List[Tuple[str, str]]:
    """An event's details as (label, value) lines: known names in words, numbers as the reader writes them, a
    key download's empty filter said as such; `words` is a gettext object, `number` the visit's number()."""
    if not isinstance(detail, dict):
        return [] if detail in (None, "") else [("", str(detail))]
    lines = []
    for name, value in sorted(detail.items()):
        label = words.gettext(DETAILS[name]) if name in DETAILS else name
        lines.append((label, _value(words, name, value, number)))
    return lines


def _value(words: Any, name: str, value: Any, number: Any) -> str:
    if name == "filter" and isinstance(value, dict) and not value:
        return str(words.gettext(NO_FILTER))
    if name == "format" and isinstance(value, str):
        return value.upper()
    if isinstance(value, bool):
        return str(words.gettext(N_("Yes") if value else N_("No")))
    if isinstance(value, (int, float)):
        return str(number(value))
    if isinstance(value, dict):
        return ", ".join(
            words.gettext(LABELLED) % {"label": key, "detail": _value(words, key, item, number)}
            for key, item in sorted(value.items())
        )
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def action_choices(words: Any) -> List[Tuple[str, str]]:
    """The actions a reader may filter by, as (action, words), in the order of the words."""
    return sorted(((action, words.gettext(label)) for action, label in ACTIONS.items()), key=lambda pair: pair[1])


def with_words(words: Any, events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Who and what of each event in words (the when and details are the page's: they need the visit)."""
    shown = []
    for event in events:
        actor = event.get("actor")
        if actor and not actor.get("outside"):
            who = f"{actor['name']} ({actor['email']})"
        elif actor:
            who = words.gettext(OPERATOR_ACTOR if actor.get("operator") else STRANGER)
        else:
            known = ACTORS.get(event["actor_id"])
            who = words.gettext(known) if known else event["actor_id"]
        target = event.get("target_person")
        if target and not target.get("outside"):
            whom = f"{target['name']} ({target['email']})"
        elif target:
            whom = words.gettext(OPERATOR_ACTOR if target.get("operator") else STRANGER)
        else:
            whom = event.get("target") or ""
        label = ACTIONS.get(event["action"])
        what = words.gettext(label) if label else event["action"]
        shown.append({**event, "who": who, "what": what, "whom": whom})
    return shown
