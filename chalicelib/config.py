"""Settings read from the environment once, as one frozen object."""
import functools
import os
from dataclasses import dataclass
from typing import Optional


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
    server_secret: bytes
    invitation_days: int
    kms_key_arn: Optional[str]
    wrapping_key_file: str
    import_max_rows: int
    import_max_body_bytes: int
    export_queue_url: Optional[str]
    export_bucket: Optional[str]
    export_hours: int
    debug: bool

    @property
    def is_local(self) -> bool:
        """True for the laptop stack (DynamoDB Local, key file, file outbox)."""
        return self.stage == "local"


def _int(environ, name: str, default: int) -> int:
    raw = environ.get(name)
    return default if raw in (None, "") else int(raw)


def read_settings(environ=None) -> Settings:
    """Build Settings from an environment mapping (os.environ by default)."""
    env = os.environ if environ is None else environ
    stage = env.get("KEYPORT_STAGE", "local")
    return Settings(
        stage=stage,
        region=env.get("AWS_DEFAULT_REGION") or env.get("AWS_REGION") or "eu-central-1",
        table_prefix=env.get("KEYPORT_TABLE_PREFIX", f"keyport-{stage}-"),
        dynamodb_endpoint=env.get("KEYPORT_DYNAMODB_ENDPOINT") or None,
        keyport_home=os.path.abspath(env.get("KEYPORT_HOME", ".local")),
        public_base_url=env.get("KEYPORT_PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
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
        mail_sender=env.get("KEYPORT_MAIL_FROM", "keyport <no-reply@keyport.local>"),
        # Keys the HMACs that derive e-mailed links (and, later, the lookup hashes of device codes).
        server_secret=bytes.fromhex(env.get("KEYPORT_SERVER_SECRET", "")),
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
        debug=env.get("KEYPORT_DEBUG", "") == "1" and stage == "local",
    )


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read on first use."""
    return read_settings()
