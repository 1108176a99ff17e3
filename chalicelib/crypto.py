"""Key custody: device keys wrapped with the AWS Encryption SDK, one message per device (DESIGN.md).

The SDK is imported on first use, never at `import app` (it costs ~0.3 s of a cold start).
"""

import functools
import json
import logging
from typing import Any, Dict, List, Optional

from chalicelib.config import StageMisconfigured, get_settings
from chalicelib.errors import InternalError

log = logging.getLogger("keyport.crypto")

PURPOSE = "device-keys"
ALGORITHM_SUITE = "AES_256_GCM_HKDF_SHA512_COMMIT_KEY"
CACHE_MAX_AGE_SECONDS = 300.0
CACHE_MAX_MESSAGES = 1000
LOCAL_KEY_ID = b"keyport-local-wrapping-key"
LOCAL_PROVIDER_ID = "keyport-local"


class KeyMaterialUnreadable(InternalError):
    """A wrapped blob that does not decrypt, or decrypts to something not meant for this device."""

    code, message = "key_material_unreadable", "The keys of this device cannot be read; tell the operator."


def _unreadable(serial: str, why: str) -> KeyMaterialUnreadable:
    log.error("keys of device %s unreadable: %s", serial, why)
    return KeyMaterialUnreadable()


@functools.lru_cache(maxsize=1)
def client() -> Any:  # aws_encryption_sdk ships no types: its objects are Any here
    """The one ESDK client: commitment required on encrypt and decrypt, exactly one data key per message."""
    import aws_encryption_sdk
    from aws_encryption_sdk.identifiers import CommitmentPolicy

    return aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT, max_encrypted_data_keys=1
    )


def kms_provider(key_arn: str) -> Any:
    """A strict KMS provider: it wraps with, and unwraps only from, this one key ARN."""
    import aws_encryption_sdk
    import botocore.session

    return aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(
        key_ids=[key_arn], botocore_session=botocore.session.Session()
    )


def raw_key_provider(key: bytes) -> Any:
    """The local provider: a raw AES-256 wrapping key (the 0600 file under KEYPORT_HOME)."""
    from aws_encryption_sdk.identifiers import EncryptionKeyType, WrappingAlgorithm
    from aws_encryption_sdk.internal.crypto.wrapping_keys import WrappingKey
    from aws_encryption_sdk.key_providers.raw import RawMasterKey

    if len(key) != 32:
        raise ValueError("the local wrapping key must be 32 bytes")
    return RawMasterKey(
        provider_id=LOCAL_PROVIDER_ID,
        key_id=LOCAL_KEY_ID,
        wrapping_key=WrappingKey(
            wrapping_algorithm=WrappingAlgorithm.AES_256_GCM_IV12_TAG16_NO_PADDING,
            wrapping_key=key,
            wrapping_key_type=EncryptionKeyType.SYMMETRIC,
        ),
    )


@functools.lru_cache(maxsize=1)
def master_key_provider() -> Any:
    """KMS on AWS (KEYPORT_KMS_KEY_ARN), the local key file on a laptop stage; built once per process."""
    settings = get_settings()
    if settings.kms_key_arn:
        return kms_provider(settings.kms_key_arn)
    if settings.deployed:  # never a laptop's key for a cloud table, whatever file happens to lie there
        raise StageMisconfigured(
            f"KEYPORT_KMS_KEY_ARN is missing: stage {settings.stage} wraps device keys only "
            "under KMS, never under the local key file"
        )
    with open(settings.wrapping_key_file, "rb") as handle:
        return raw_key_provider(handle.read())


def _suite() -> Any:
    from aws_encryption_sdk.identifiers import Algorithm

    return getattr(Algorithm, ALGORITHM_SUITE)


def caching_manager(provider: Any = None) -> Any:
    """A CMM with its own data-key cache: one per import on encrypt, one per process on decrypt."""
    from aws_encryption_sdk import CachingCryptoMaterialsManager, LocalCryptoMaterialsCache

    return CachingCryptoMaterialsManager(
        master_key_provider=provider or master_key_provider(),
        cache=LocalCryptoMaterialsCache(capacity=100),
        max_age=CACHE_MAX_AGE_SECONDS,
        max_messages_encrypted=CACHE_MAX_MESSAGES,
    )


class KeyWrapper:
    """Wraps the keys of the devices of one import: one encryption context and one data-key cache for all."""

    def __init__(self, import_id: str, provider: Any = None) -> None:
        self.import_id = import_id
        self.context = {"purpose": PURPOSE, "import_id": import_id}
        self.manager = caching_manager(provider)

    def wrap(self, serial: str, keys: List[Dict[str, str]]) -> bytes:
        """One ESDK message holding the serial and its keys."""
        plaintext = json.dumps({"serial": serial, "keys": keys}, separators=(",", ":")).encode()
        ciphertext, _header = client().encrypt(
            source=plaintext, materials_manager=self.manager, encryption_context=self.context, algorithm=_suite()
        )
        return ciphertext


@functools.lru_cache(maxsize=1)
def _decrypt_manager() -> Any:
    return caching_manager()


def unwrap(serial: str, import_id: str, blob: bytes, provider: Any = None) -> List[Dict[str, str]]:
    """The keys of a device, after checking the context (the SDK alone does not) and the serial inside."""
    manager = caching_manager(provider) if provider is not None else _decrypt_manager()
    try:
        plaintext, header = client().decrypt(source=blob, materials_manager=manager)
    except Exception as error:  # any failure (SDK, InvalidTag, KMS refusal) means these bytes are not readable here
        raise _unreadable(serial, type(error).__name__) from None
    context = header.encryption_context
    if context.get("purpose") != PURPOSE or context.get("import_id") != import_id:
        raise _unreadable(serial, "encryption context mismatch")
    if header.algorithm.name != ALGORITHM_SUITE:
        raise _unreadable(serial, "unexpected algorithm suite")
    content: Dict[str, Any] = json.loads(plaintext)
    if content.get("serial") != serial:
        raise _unreadable(serial, "blob belongs to another device")
    return content["keys"]


def seal(data: bytes, context: Dict[str, str]) -> bytes:
    """Data kept encrypted at rest under the master key (an export file, a portal code): one ESDK message whose
    context names what it is and whose it is."""
    ciphertext, _header = client().encrypt(
        source=data, key_provider=master_key_provider(), algorithm=_suite(), encryption_context=context
    )
    return ciphertext


def unseal(blob: bytes, context: Dict[str, str], what: str) -> bytes:
    """The plaintext of a message sealed with this context (checked: the SDK without [mpl] does not)."""
    try:
        plaintext, header = client().decrypt(source=blob, key_provider=master_key_provider())
    except Exception as error:
        raise _unreadable(what, type(error).__name__) from None
    if any(header.encryption_context.get(key) != value for key, value in context.items()):
        raise _unreadable(what, "encryption context mismatch")
    return plaintext


def seal_file(data: bytes, export_id: str) -> bytes:
    """An export file encrypted at rest where no S3 encryption exists (the local stack)."""
    return seal(data, {"purpose": PURPOSE, "export_id": export_id})


def open_file(blob: bytes, export_id: str) -> bytes:
    """The plaintext of a file sealed by seal_file for this export, checking its context."""
    return unseal(blob, {"purpose": PURPOSE, "export_id": export_id}, "export " + export_id)


def describe_configuration(provider: Optional[Any] = None) -> Dict[str, Any]:
    """What the custody runs with (asserted by tests, shown by the bench)."""
    active = client().config
    provider = provider or master_key_provider()
    return {
        "commitment_policy": active.commitment_policy.name,
        "max_encrypted_data_keys": active.max_encrypted_data_keys,
        "algorithm_suite": ALGORITHM_SUITE,
        "provider": type(provider).__name__,
    }
