"""Passwords (argon2id), random tokens and their hashes, the password policy."""

import base64
import functools
import hashlib
import hmac
import secrets
import string
from typing import TYPE_CHECKING, List

from chalicelib.config import StageMisconfigured, get_settings
from chalicelib.errors import WeakPassword

if TYPE_CHECKING:  # imported on first use at run time
    from argon2 import PasswordHasher

# The secret never changes (a new one would void every code and link derived under it): the cache only spares
# Secrets Manager calls, so a container fetches it once in its life (Lambda recycles containers within hours).
SERVER_SECRET_MAX_AGE_SECONDS = 24 * 3600
PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 128
_SPECIALS = set(string.punctuation + " ")


@functools.lru_cache(maxsize=1)
def _hasher() -> "PasswordHasher":
    # Imported here so `import app` stays light (argon2 loads on the first password route).
    from argon2 import PasswordHasher, Type

    settings = get_settings()
    return PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
        type=Type.ID,
    )


def hash_password(password: str) -> str:
    """The argon2id hash of a password (salted, parameters encoded in the string)."""
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when the password matches the hash; never raises for a mismatch."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.lru_cache(maxsize=1)
def dummy_password_hash() -> str:
    """A hash to verify against for unknown e-mails, so both cases cost the same time."""
    return hash_password(secrets.token_urlsafe(16))


@functools.lru_cache(maxsize=1)
def _common_passwords() -> frozenset:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problems(password: str) -> List[str]:
    """Every rule of the password policy the password breaks, in words (empty: it is fine)."""
    problems = []
    if len(password) < PASSWORD_MIN_LENGTH:
        problems.append(f"at least {PASSWORD_MIN_LENGTH} characters")
    if len(password) > PASSWORD_MAX_LENGTH:
        problems.append(f"at most {PASSWORD_MAX_LENGTH} characters")
    if not any(c.isupper() for c in password):
        problems.append("an upper-case letter")
    if not any(c.islower() for c in password):
        problems.append("a lower-case letter")
    if not any(c.isdigit() for c in password):
        problems.append("a digit")
    if not any(c in _SPECIALS or not c.isalnum() for c in password):
        problems.append("a special character")
    if _is_common(password):
        problems.append("not a common password")
    return problems


def _is_common(password: str) -> bool:
    # "Summer2024!!" is "summer" dressed up: also check the word with its digit/symbol
    # decorations at either end stripped off.
    lowered = password.lower()
    core = lowered.strip(string.digits + string.punctuation + " ")
    common = _common_passwords()
    return lowered in common or (len(core) >= 4 and core in common)


def check_password_policy(password: str) -> None:
    """Raise WeakPassword naming every broken rule."""
    problems = password_problems(password)
    if problems:
        raise WeakPassword("The password needs " + ", ".join(problems) + ".", details={"rules": problems})


def new_token() -> str:
    """A fresh URL-safe secret of 256 random bits."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The SHA-256 (hex) under which a handed-out secret is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def form_token(secret: str) -> str:
    """The synchronizer token of a console form, derived from the secret behind its cookie (the session token, or
    the pre-session token of a public form): a page from another origin can neither read the cookie nor compute it."""
    digest = hmac.new(secret.encode("utf-8"), b"keyport console form", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def keyed_digest(purpose: str, *parts: str) -> str:
    """HMAC-SHA256 under the server secret, URL-safe (256 bits): derives links and lookup hashes that a copy
    of the database alone cannot forge or reverse."""
    secret = server_secret()
    message = "\x1f".join((purpose,) + parts).encode("utf-8")
    return base64.urlsafe_b64encode(hmac.new(secret, message, hashlib.sha256).digest()).decode().rstrip("=")


def server_secret() -> bytes:
    """The server secret (32+ bytes): from Secrets Manager by KEYPORT_SERVER_SECRET_ARN, fetched when first needed
    and cached for the container; a laptop stage without an ARN uses KEYPORT_SERVER_SECRET. A deployed stage
    never falls back to the environment."""
    settings = get_settings()
    if settings.server_secret_arn:
        from aws_lambda_powertools.utilities import parameters  # loaded by the first request that needs it

        try:
            value = parameters.get_secret(settings.server_secret_arn, max_age=SERVER_SECRET_MAX_AGE_SECONDS)
            secret = bytes.fromhex(value.strip() if isinstance(value, str) else value.decode().strip())
        except ValueError:
            raise StageMisconfigured("the secret KEYPORT_SERVER_SECRET_ARN names is not a hex string") from None
        source = "the secret KEYPORT_SERVER_SECRET_ARN names"
    elif settings.deployed:
        raise StageMisconfigured(
            f"KEYPORT_SERVER_SECRET_ARN is missing: stage {settings.stage} reads its server "
            "secret only from Secrets Manager"
        )
    else:
        secret, source = settings.local_server_secret, "KEYPORT_SERVER_SECRET"
    if len(secret) < 32:
        raise StageMisconfigured(f"{source} is missing or shorter than 32 bytes")
    return secret


def derived_id(prefix: str, purpose: str, *parts: str) -> str:
    """An id shaped like new_id's, derived from the parts under the server secret: the same parts give the same id,
    and nobody without the secret can tell it from a random one."""
    return f"{prefix}_{base64.urlsafe_b64decode(keyed_digest(purpose, *parts) + '=').hex()[:32]}"


def same_secret(a: str, b: str) -> bool:
    """Constant-time comparison of two secrets or their hashes."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def new_temporary_password() -> str:
    """A random temporary password that passes the policy (20 characters, every class)."""
    alphabet = string.ascii_letters + string.digits + "-_.!@#%"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(20))
        if not password_problems(candidate):
            return candidate


def new_id(prefix: str) -> str:
    """An opaque id such as usr_3f9c...: a prefix naming the kind, then 128 random bits."""
    return f"{prefix}_{secrets.token_hex(16)}"
