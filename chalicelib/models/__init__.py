"""pynamodb models: the only code that knows table and index names (one module per area, all exported here)."""

from typing import Any, List, Optional, Type, cast

from pynamodb.connection import Connection
from pynamodb.models import Model

from chalicelib.models.accounts import (
    LoginAttemptModel,
    OneTimeTokenModel,
    RateLimitModel,
    SessionModel,
    UserEmailModel,
    UserModel,
)
from chalicelib.models.audit import AuditEventModel
from chalicelib.models.batches import BatchModel, BatchReferenceModel, BatchSerialModel
from chalicelib.models.counters import CounterModel
from chalicelib.models.devices import DEVICE_VIEW_ATTRIBUTES, DeviceLabelModel, DeviceModel
from chalicelib.models.exports import ExportModel
from chalicelib.models.installations import InstallationModel
from chalicelib.models.invitations import InvitationModel
from chalicelib.models.meta import TableMeta, time_ordered_key
from chalicelib.models.portal import PortalAccessModel, PortalSessionModel
from chalicelib.models.registrations import RegistrationEmailModel, RegistrationModel
from chalicelib.models.templates import MailTemplateModel, TemplateSlotModel
from chalicelib.models.tenants import OrganizationModel, PartnerModel, PartnerRequestModel, SiteModel

__all__ = [
    "ALL_MODELS",
    "DEVICE_VIEW_ATTRIBUTES",
    "AuditEventModel",
    "BatchModel",
    "BatchReferenceModel",
    "BatchSerialModel",
    "CounterModel",
    "DeviceLabelModel",
    "DeviceModel",
    "ExportModel",
    "InstallationModel",
    "InvitationModel",
    "LoginAttemptModel",
    "MailTemplateModel",
    "OneTimeTokenModel",
    "OrganizationModel",
    "PartnerModel",
    "PartnerRequestModel",
    "PortalAccessModel",
    "PortalSessionModel",
    "RateLimitModel",
    "RegistrationEmailModel",
    "RegistrationModel",
    "SessionModel",
    "SiteModel",
    "TemplateSlotModel",
    "UserEmailModel",
    "UserModel",
    "bind",
    "connection",
    "create_tables",
    "reset_connections",
    "time_ordered_key",
]


def _share_botocore_data() -> None:
    """Let every botocore session pynamodb makes share one data loader.

    pynamodb builds a botocore session per model connection (and per thread), and each new session reads
    endpoints.json and the DynamoDB service model again: measured 0.1-0.4 s for each model's first call, so a
    cold Lambda touching eight tables spent ~3 s on it. The loader caches what it read; shared, that is once a
    process. Sessions stay per connection and thread, as pynamodb wants them (client creation is not
    thread-safe)."""
    import botocore.loaders
    import botocore.session
    from pynamodb.connection import base

    loader = botocore.loaders.create_loader()

    def session_with_shared_data() -> botocore.session.Session:
        session = botocore.session.get_session()
        session.register_component("data_loader", loader)
        return session

    base.get_session = session_with_shared_data


_share_botocore_data()

ALL_MODELS: List[Type[Model]] = [
    OrganizationModel,
    PartnerModel,
    PartnerRequestModel,
    SiteModel,
    OneTimeTokenModel,
    UserModel,
    UserEmailModel,
    SessionModel,
    LoginAttemptModel,
    AuditEventModel,
    InvitationModel,
    MailTemplateModel,
    TemplateSlotModel,
    RateLimitModel,
    DeviceModel,
    DeviceLabelModel,
    BatchModel,
    BatchReferenceModel,
    BatchSerialModel,
    ExportModel,
    RegistrationModel,
    RegistrationEmailModel,
    InstallationModel,
    PortalAccessModel,
    PortalSessionModel,
    CounterModel,
]

_KEEP: Any = object()  # Any: the "leave as is" default of bind's typed parameters


def bind(host: Optional[str] = _KEEP, region: Optional[str] = _KEEP, prefix: str = _KEEP) -> None:
    """Point every model at another endpoint or table prefix (DynamoDB Local, isolated test tables)."""
    for model in ALL_MODELS:
        if prefix is not _KEEP:
            model.Meta.table_name = prefix + cast(TableMeta, model.Meta).base_name
        if host is not _KEEP:
            model.Meta.host = host
        if region is not _KEEP:
            model.Meta.region = region
    reset_connections()


def reset_connections() -> None:
    """Forget cached clients so the next call builds them afresh (per test, after bind)."""
    global _transaction_connection
    _transaction_connection = None
    for model in ALL_MODELS:
        model._connection = None


def create_tables() -> List[str]:
    """Create every missing table (with its indexes and TTL); answer the names created."""
    created = []
    for model in ALL_MODELS:
        if not model.exists():
            model.create_table(wait=True)
            created.append(model.Meta.table_name)
    return created


_transaction_connection = None


def connection() -> Connection:
    """The cached low-level connection for transactions spanning several tables."""
    global _transaction_connection
    if _transaction_connection is None:
        _transaction_connection = Connection(region=OrganizationModel.Meta.region, host=OrganizationModel.Meta.host)
    return _transaction_connection
