"""The names of the OpenAPI document's component schemas: each resource, page, request body and shared enum.

Wherever a schema equal to one of these appears in the document it becomes a `$ref` to its name, so generated
clients get short model names (Device, DevicePage) instead of names spelled from the path of each use.
"""

from typing import Any, Dict

from chalicelib import fields
from chalicelib.api import device_schemas as devices
from chalicelib.api import installer_schemas as installers
from chalicelib.api import schemas
from chalicelib.api.schemas import paged


def _pages(**items: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    """Each item schema under its name and its list answer under the name + "Page"."""
    named: Dict[str, Dict[str, Any]] = {}
    for name, item in items.items():
        named[name], named[name + "Page"] = item, paged(item)
    return named


COMPONENTS: Dict[str, Dict[str, Any]] = {
    # resources and their pages
    **_pages(
        User=schemas.USER,
        Template=schemas.TEMPLATE,
        Org=schemas.ORG,
        Partner=schemas.PARTNER,
        Site=schemas.SITE,
        Invitation=schemas.INVITATION,
        Device=devices.DEVICE,
        Batch=devices.BATCH,
        AuditEvent=devices.AUDIT_EVENT,
        Export=devices.EXPORT,
        Registration=installers.REGISTRATION,
        Installation=installers.INSTALLATION,
        PortalDevice=installers.PORTAL_DEVICE,
        PortalInstallation=installers.PORTAL_INSTALLATION,
    ),
    # pages that also answer the list's total (from counters)
    "UserPage": schemas.paged_with_total(schemas.USER),
    "InvitationPage": schemas.paged_with_total(schemas.INVITATION),
    "CreatedUser": schemas.USER_CREATED,
    "Session": schemas.SESSION,
    "Health": schemas.HEALTH,
    "OpenApiDocument": schemas.OPENAPI_DOCUMENT,
    "RenderedTemplate": schemas.RENDERED,
    "MailSent": schemas.MESSAGE,
    "InvitationTargets": schemas.INVITATION_TARGETS,
    "PublicInvitation": schemas.PUBLIC_INVITATION,
    "BatchDetail": devices.BATCH_DETAIL,
    "BatchSerialPage": devices.BATCH_DETAIL["properties"]["serials"],
    "BatchSerial": devices.BATCH_DETAIL["properties"]["serials"]["properties"]["items"]["items"],
    "ImportRejection": devices.DEVICE_IMPORT_RESULT["properties"]["rejected"]["items"],
    "InvitationTargetOrg": schemas.INVITATION_TARGETS["properties"]["orgs"]["items"],
    "InstallationDevice": installers.INSTALLATION["properties"]["device"]["anyOf"][0],
    "DeviceImportResult": devices.DEVICE_IMPORT_RESULT,
    "DeviceKeys": devices.DEVICE_KEYS,
    "Key": devices.KEY,
    "KeysFile": devices.KEYS_FILE,
    "RegistrationReceived": installers.RECEIVED,
    "Customer": installers.CUSTOMER_VIEW,
    "InstallationCheck": installers.CHECKED,
    "InstallationCreated": installers.INSTALLATION_CREATED,
    "Activation": installers.ACTIVATION,
    "Activated": installers.ACTIVATED,
    "PortalScope": installers.PORTAL_SCOPE,
    "PortalAccess": installers.PORTAL_ACCESS,
    "PortalSession": installers.PORTAL_SESSION,
    "RecipientJwk": schemas.RECIPIENT_JWK,
    # request bodies
    "LoginRequest": schemas.LOGIN,
    "ProfilePatch": schemas.PROFILE_PATCH,
    "PasswordChange": schemas.PASSWORD_CHANGE,
    "EmailChange": schemas.EMAIL_CHANGE,
    "PasswordResetRequest": schemas.RESET_REQUEST,
    "NewPassword": schemas.NEW_PASSWORD,
    "TemplatePatch": schemas.TEMPLATE_PATCH,
    "TemplateCopy": schemas.TEMPLATE_COPY,
    "TemplateTestRequest": schemas.TEMPLATE_TEST,
    "OrgCreate": schemas.ORG_CREATE,
    "OrgPatch": schemas.ORG_PATCH,
    "PartnerAdd": schemas.PARTNER_ADD,
    "UserCreate": schemas.USER_CREATE,
    "UserPatch": schemas.USER_PATCH,
    "SiteCreate": schemas.SITE_CREATE,
    "SitePatch": schemas.SITE_PATCH,
    "InvitationCreate": schemas.INVITATION_CREATE,
    "InvitationPatch": schemas.INVITATION_PATCH,
    "InvitationSend": schemas.INVITATION_SEND,
    "InvitationAccept": schemas.INVITATION_ACCEPT,
    "InviteForm": schemas.INVITE_FORM,
    "PasswordForm": schemas.PASSWORD_FORM,
    "ConfirmForm": schemas.CONFIRM_FORM,
    "DeviceImport": devices.DEVICE_IMPORT_SHOWN,
    "DeviceImportItem": devices.DEVICE_IMPORT_ITEM,
    "DeviceImportKey": devices.DEVICE_IMPORT_KEY,
    "DevicePatch": devices.DEVICE_PATCH,
    "ClaimRequest": devices.CLAIM,
    "TakeOwnership": devices.TAKE_OWNERSHIP,
    "BatchCreate": devices.BATCH_CREATE,
    "BatchFile": devices.BATCH_CREATE["properties"]["file"],
    "ExportRequest": devices.EXPORT_REQUEST,
    "RegistrationCreate": installers.REGISTRATION_CREATE,
    "RegistrationApproval": installers.APPROVAL,
    "RegistrationRejection": installers.REJECTION,
    "DeviceProof": installers.DEVICE_PROOF,
    "CustomerData": installers.CUSTOMER_DATA,
    "InstallationCreate": installers.INSTALLATION_CREATE,
    "ActivationConfirm": installers.ACTIVATION_CONFIRM,
    "ActivationForm": installers.ACTIVATION_FORM,
    "PortalAccessCreate": installers.PORTAL_ACCESS_CREATE,
    "PortalLogin": installers.PORTAL_LOGIN,
    # enums several schemas share
    "Role": schemas.ROLE,
    "Permission": schemas.PERMISSION_LIST["items"],
    "Language": fields.LANGUAGE,
    "MailType": schemas.MAIL_TYPE,
    "CsvDelimiter": schemas.DELIMITER,
    "CsvThousandsSeparator": schemas.THOUSANDS,
    "UserStatus": schemas.USER["properties"]["status"],
    "ClaimStatus": devices.DEVICE["properties"]["claim_status"],
    "FileFormat": devices.FILE_FORMAT,
    "KeyAlgorithm": devices.KEY["properties"]["algorithm"],
    "BatchState": devices.BATCH["properties"]["state"],
    "InvitationState": schemas.INVITATION["properties"]["state"],
    "RegistrationState": installers.REGISTRATION_STATE,
    "InstallationState": installers.INSTALLATION_STATE,
    "ScopeType": installers.SCOPE_TYPE,
}
