"""Settings read from the environment once, as one frozen object; the checks a deployed stage must pass."""

import functools
import ipaddress
import os
from dataclasses import dataclass
from email.utils import parseaddr
from typing import List, Mapping, Optional
from urllib.parse import urlsplit

# Stages that run on a laptop: `make run` (local), the test suite (test), `make bench` (bench). Every other stage
# (dev, prod, or any name a newcomer picks) is deployed: no localhost default, no secret from the environment.
LAPTOP_STAGES = frozenset({"local", "test", "bench"})


class StageMisconfigured(RuntimeError):
    """A deployed stage lacks a setting or has one that points at a laptop; the message names each problem."""


@dataclass(frozen=True)
class Settings:
    """Everything keyport reads from its environment."""

    stage: str
    region: str
    table_prefix: str
    dynamodb_endpoint: Optional[str]
    keyport_home: str
    public_base_url: str
    session_idle_minutes: int
    session_absolute_hours: int
    lockout_threshold: int
    lockout_minutes: int
    argon2_time_cost: int
    argon2_memory_kib: int
    argon2_parallelism: int
    max_body_bytes: int
    mail_backend: str
    mail_sender: str
    sms_sender_id: Optional[str]
    # The hex server secret of a laptop stage (KEYPORT_SERVER_SECRET); always empty on a deployed stage, which
    # reads its secret from Secrets Manager (security.server_secret() is the one accessor).
    local_server_secret: bytes
    server_secret_arn: Optional[str]
    server_secret_in_environment: bool
    invitation_days: int
    kms_key_arn: Optional[str]
    wrapping_key_file: str
    import_max_rows: int
    import_max_body_bytes: int
    export_queue_url: Optional[str]
    export_bucket: Optional[str]
    export_hours: int
    metrics_namespace: str
    in_lambda: bool
    debug: bool

    @property
    def is_local(self) -> bool:
        """True for the laptop stack (DynamoDB Local, key file, file outbox)."""
        return self.stage == "local"

    @property
    def deployed(self) -> bool:
        """True for a stage on AWS (dev, prod, ...): settings are checked, secrets come from AWS only."""
        return self.stage not in LAPTOP_STAGES


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    return default if raw in (None, "") else int(raw)


def read_settings(environ: Optional[Mapping[str, str]] = None) -> Settings:
    """Build Settings from an environment mapping (os.environ by default)."""
    env = os.environ if environ is None else environ
    stage = env.get("KEYPORT_STAGE", "local")
    laptop = stage in LAPTOP_STAGES
    return Settings(
        stage=stage,
        region=env.get("AWS_DEFAULT_REGION") or env.get("AWS_REGION") or "eu-central-1",
        table_prefix=env.get("KEYPORT_TABLE_PREFIX", f"keyport-{stage}-"),
        dynamodb_endpoint=env.get("KEYPORT_DYNAMODB_ENDPOINT") or None,
        keyport_home=os.path.abspath(env.get("KEYPORT_HOME", ".local")),
        # The laptop defaults never apply to a deployed stage: there a missing value stops the cold start.
        public_base_url=env.get("KEYPORT_PUBLIC_BASE_URL", "http://127.0.0.1:8000" if laptop else "").rstrip("/"),
        session_idle_minutes=_int(env, "KEYPORT_SESSION_IDLE_MINUTES", 30),
        session_absolute_hours=_int(env, "KEYPORT_SESSION_ABSOLUTE_HOURS", 12),
        lockout_threshold=_int(env, "KEYPORT_LOCKOUT_THRESHOLD", 10),
        lockout_minutes=_int(env, "KEYPORT_LOCKOUT_MINUTES", 15),
        # RFC 9106 "second recommended option" (argon2-cffi's default profile): 64 MiB, t=3, p=4.
        argon2_time_cost=_int(env, "KEYPORT_ARGON2_TIME_COST", 3),
        argon2_memory_kib=_int(env, "KEYPORT_ARGON2_MEMORY_KIB", 65536),
        argon2_parallelism=_int(env, "KEYPORT_ARGON2_PARALLELISM", 4),
        max_body_bytes=_int(env, "KEYPORT_MAX_BODY_BYTES", 1024 * 1024),
        # "outbox" writes .eml files under KEYPORT_HOME/outbox; "ses" sends through Amazon SES.
        mail_backend=env.get("KEYPORT_MAIL_BACKEND") or ("outbox" if stage == "local" else "ses"),
        mail_sender=env.get("KEYPORT_MAIL_FROM", "keyport <no-reply@keyport.local>" if laptop else ""),
        sms_sender_id=env.get("KEYPORT_SMS_SENDER_ID") or None,
        # Keys the HMACs that derive e-mailed links and the lookup hashes of device codes.
        local_server_secret=bytes.fromhex(env.get("KEYPORT_SERVER_SECRET", "")) if laptop else b"",
        server_secret_arn=env.get("KEYPORT_SERVER_SECRET_ARN") or None,
        server_secret_in_environment=bool(env.get("KEYPORT_SERVER_SECRET")),
        invitation_days=_int(env, "KEYPORT_INVITATION_DAYS", 7),
        # On AWS the device keys are wrapped under this KMS key; without it (local, tests) under the key file.
        kms_key_arn=env.get("KEYPORT_KMS_KEY_ARN") or None,
        wrapping_key_file=env.get("KEYPORT_WRAPPING_KEY_FILE")
        or os.path.join(os.path.abspath(env.get("KEYPORT_HOME", ".local")), "wrapping-key.bin"),
        # One import request (API Gateway: 29 s, 10 MB); bigger files go through the CLI.
        import_max_rows=_int(env, "KEYPORT_IMPORT_MAX_ROWS", 10_000),
        import_max_body_bytes=_int(env, "KEYPORT_IMPORT_MAX_BODY_BYTES", 6 * 1024 * 1024),
        # On AWS exports go through SQS and S3; without these (local) through $KEYPORT_HOME/exports.
        export_queue_url=env.get("KEYPORT_EXPORT_QUEUE_URL") or None,
        export_bucket=env.get("KEYPORT_EXPORT_BUCKET") or None,
        export_hours=_int(env, "KEYPORT_EXPORT_HOURS", 24),
        metrics_namespace=env.get("POWERTOOLS_METRICS_NAMESPACE") or f"keyport-{stage}",
        # Lambda sets this in every function; `chalice package` (which imports app.py with the stage's
        # KEYPORT_STAGE but none of the deployed values) does not.
        in_lambda=bool(env.get("AWS_LAMBDA_FUNCTION_NAME")),
        debug=env.get("KEYPORT_DEBUG", "") == "1" and stage == "local",
    )


def stage_problems(settings: Settings) -> List[str]:
    """What keeps a deployed stage from running, one phrase each (empty: fine, and always for a laptop stage)."""
    if not settings.deployed:
        return []
    problems = []
    url = urlsplit(settings.public_base_url)
    if not settings.public_base_url:
        problems.append("KEYPORT_PUBLIC_BASE_URL is missing")
    elif url.scheme != "https" or not url.hostname:
        problems.append(f"KEYPORT_PUBLIC_BASE_URL must be an https:// URL, not {settings.public_base_url!r}")
    elif _points_at_a_laptop(url.hostname):
        problems.append(f"KEYPORT_PUBLIC_BASE_URL points at a local host ({url.hostname})")
    address = parseaddr(settings.mail_sender)[1]
    if not settings.mail_sender:
        problems.append("KEYPORT_MAIL_FROM is missing")
    elif "@" not in address:
        problems.append(f"KEYPORT_MAIL_FROM is not an e-mail address: {settings.mail_sender!r}")
    elif _points_at_a_laptop(address.rsplit("@", 1)[1]):
        problems.append(f"KEYPORT_MAIL_FROM uses a local domain ({address})")
    required = (
        ("KEYPORT_SERVER_SECRET_ARN", settings.server_secret_arn),
        ("KEYPORT_KMS_KEY_ARN", settings.kms_key_arn),
        ("KEYPORT_EXPORT_QUEUE_URL", settings.export_queue_url),
        ("KEYPORT_EXPORT_BUCKET", settings.export_bucket),
    )
    problems += [f"{name} is missing" for name, value in required if not value]
    if settings.server_secret_in_environment:
        problems.append("KEYPORT_SERVER_SECRET is set: a deployed stage reads its secret only from Secrets Manager")
    if settings.dynamodb_endpoint and _points_at_a_laptop(urlsplit(settings.dynamodb_endpoint).hostname or ""):
        problems.append(f"KEYPORT_DYNAMODB_ENDPOINT points at a local host ({settings.dynamodb_endpoint})")
    if settings.mail_backend != "ses":
        problems.append(f"KEYPORT_MAIL_BACKEND is {settings.mail_backend!r}: a deployed stage sends through SES")
    return problems


def _points_at_a_laptop(host: str) -> bool:
    host = host.strip("[]").rstrip(".").lower()
    if host in ("localhost", "") or host.endswith((".local", ".localhost")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified or address.is_private or address.is_link_local


def check_stage(settings: Settings) -> None:
    """Raise StageMisconfigured naming every problem of a deployed stage's settings."""
    problems = stage_problems(settings)
    if problems:
        raise StageMisconfigured(f"keyport cannot run on stage {settings.stage}: " + "; ".join(problems))


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read on first use."""
    return read_settings()
