"""Key custody: the ESDK configuration, and blobs that must not decrypt anywhere else."""

import os

import boto3
import pytest

from chalicelib import crypto
from chalicelib.crypto import KeyMaterialUnreadable, KeyWrapper, unwrap

KEYS = [{"name": "app", "algorithm": "AES128", "hex": "00112233445566778899aabbccddeeff"}]


@pytest.fixture
def kms_keys(aws):
    """Two KMS keys in moto: the service's and a stranger's."""
    kms = boto3.client("kms", region_name="eu-central-1")
    return [kms.create_key(Description=name)["KeyMetadata"]["Arn"] for name in ("keyport", "stranger")]


def test_the_client_requires_commitment_one_data_key_and_the_committing_suite():
    from aws_encryption_sdk.identifiers import CommitmentPolicy

    config = crypto.client().config
    assert config.commitment_policy is CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
    assert config.max_encrypted_data_keys == 1
    blob = KeyWrapper("imp_1").wrap("SN-1", KEYS)
    import io

    from aws_encryption_sdk.internal.formatting.deserialize import deserialize_header

    header, _ = deserialize_header(io.BytesIO(blob))
    assert header.algorithm.name == "AES_256_GCM_HKDF_SHA512_COMMIT_KEY"
    assert header.encryption_context == {"purpose": "device-keys", "import_id": "imp_1"}


def test_on_aws_the_provider_is_strict_kms_on_the_configured_key(kms_keys):
    import aws_encryption_sdk

    provider = crypto.kms_provider(kms_keys[0])
    assert isinstance(provider, aws_encryption_sdk.StrictAwsKmsMasterKeyProvider)
    assert crypto.describe_configuration(provider)["provider"] == "StrictAwsKmsMasterKeyProvider"


def test_keys_round_trip_and_the_plaintext_is_not_in_the_blob():
    wrapper = KeyWrapper("imp_1")
    blob = wrapper.wrap("SN-1", KEYS)
    assert KEYS[0]["hex"].encode() not in blob and b"SN-1" not in blob
    # The import stores the wrapper's import id beside the blob; unwrapping later checks it against the context.
    assert unwrap("SN-1", wrapper.import_id, blob) == KEYS


def test_a_blob_moved_to_another_device_fails():
    blob = KeyWrapper("imp_1").wrap("SN-1", KEYS)
    with pytest.raises(KeyMaterialUnreadable):
        unwrap("SN-2", "imp_1", blob)


def test_a_blob_under_another_import_context_fails():
    blob = KeyWrapper("imp_1").wrap("SN-1", KEYS)
    with pytest.raises(KeyMaterialUnreadable):
        unwrap("SN-1", "imp_2", blob)


def test_a_tampered_context_fails_the_commitment_and_authentication():
    blob = bytearray(KeyWrapper("imp_1").wrap("SN-1", KEYS))
    at = bytes(blob).index(b"imp_1")
    blob[at : at + 5] = b"imp_2"
    with pytest.raises(KeyMaterialUnreadable):
        unwrap("SN-1", "imp_2", bytes(blob))


def test_a_flipped_ciphertext_byte_fails():
    blob = bytearray(KeyWrapper("imp_1").wrap("SN-1", KEYS))
    blob[-40] ^= 1
    with pytest.raises(KeyMaterialUnreadable):
        unwrap("SN-1", "imp_1", bytes(blob))


def test_a_blob_from_another_local_wrapping_key_fails():
    stranger = crypto.raw_key_provider(os.urandom(32))
    blob = KeyWrapper("imp_1", provider=stranger).wrap("SN-1", KEYS)
    with pytest.raises(KeyMaterialUnreadable):
        unwrap("SN-1", "imp_1", blob)


def test_a_blob_from_another_kms_key_fails(kms_keys):
    ours, stranger = (crypto.kms_provider(arn) for arn in kms_keys)
    blob = KeyWrapper("imp_1", provider=stranger).wrap("SN-1", KEYS)
    assert unwrap("SN-1", "imp_1", blob, provider=stranger) == KEYS
    with pytest.raises(KeyMaterialUnreadable):
        unwrap("SN-1", "imp_1", blob, provider=ours)


def test_one_import_reuses_a_data_key_for_up_to_a_thousand_devices(kms_keys):
    from tests.kms_calls import count_kms_calls

    with count_kms_calls() as calls:
        wrapper = KeyWrapper("imp_1", provider=crypto.kms_provider(kms_keys[0]))
        blobs = [wrapper.wrap(f"SN-{n}", KEYS) for n in range(2001)]
    assert calls["GenerateDataKey"] == 3  # 1,000 messages per data key
    with count_kms_calls() as calls:
        manager_provider = crypto.kms_provider(kms_keys[0])
        manager = crypto.caching_manager(manager_provider)
        for n in (0, 1, 999, 1000, 2000):
            crypto.client().decrypt(source=blobs[n], materials_manager=manager)
    assert calls["Decrypt"] == 3  # one per distinct data key, then cached


def _unreadable_log(caplog, action):
    """The one error line an unreadable blob leaves for the operator (the answer itself says nothing)."""
    caplog.clear()
    with caplog.at_level("ERROR", logger="keyport.crypto"), pytest.raises(KeyMaterialUnreadable):
        action()
    return [record.getMessage() for record in caplog.records if record.name == "keyport.crypto"]


def test_an_unreadable_blob_is_logged_with_the_device_and_the_reason(caplog):
    import json

    from aws_encryption_sdk import Algorithm

    blob = KeyWrapper("imp_1").wrap("SN-1", KEYS)
    assert _unreadable_log(caplog, lambda: unwrap("SN-1", "imp_2", blob)) == [
        "keys of device SN-1 unreadable: encryption context mismatch"
    ]
    assert _unreadable_log(caplog, lambda: unwrap("SN-2", "imp_1", blob)) == [
        "keys of device SN-2 unreadable: blob belongs to another device"
    ]
    assert _unreadable_log(caplog, lambda: unwrap("SN-1", "imp_1", b"not a message")) == [
        "keys of device SN-1 unreadable: NotSupportedError"
    ]
    # A committing suite, but not the one keyport wraps with (signed): refused although it decrypts.
    other_suite, _ = crypto.client().encrypt(
        source=json.dumps({"serial": "SN-1", "keys": KEYS}).encode(),
        key_provider=crypto.master_key_provider(),
        encryption_context={"purpose": "device-keys", "import_id": "imp_1"},
        algorithm=Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
    )
    assert _unreadable_log(caplog, lambda: unwrap("SN-1", "imp_1", other_suite)) == [
        "keys of device SN-1 unreadable: unexpected algorithm suite"
    ]


def test_a_sealed_file_opens_only_as_its_own_export_and_says_which_did_not(caplog):
    import io

    from aws_encryption_sdk.internal.formatting.deserialize import deserialize_header

    sealed = crypto.seal_file(b"serial;key\nSN-1;00ff\n", "exp_1")
    assert b"SN-1" not in sealed
    assert deserialize_header(io.BytesIO(sealed))[0].algorithm.name == crypto.ALGORITHM_SUITE
    assert crypto.open_file(sealed, "exp_1") == b"serial;key\nSN-1;00ff\n"
    assert _unreadable_log(caplog, lambda: crypto.open_file(sealed, "exp_2")) == [
        "keys of device export exp_2 unreadable: encryption context mismatch"
    ]
    portal_code = crypto.seal(b"code", {"purpose": "portal-code", "scope": "org_1"})
    assert _unreadable_log(caplog, lambda: crypto.open_file(portal_code, "exp_1")) == [
        "keys of device export exp_1 unreadable: encryption context mismatch"
    ]
    assert _unreadable_log(caplog, lambda: crypto.open_file(b"garbage", "exp_1")) == [
        "keys of device export exp_1 unreadable: NotSupportedError"
    ]


def test_the_local_wrapping_key_must_be_32_bytes():
    with pytest.raises(ValueError) as refused:
        crypto.raw_key_provider(b"\x00" * 31)
    assert str(refused.value) == "the local wrapping key must be 32 bytes"


def test_the_custody_configuration_is_described_for_the_bench():
    assert crypto.describe_configuration() == {
        "commitment_policy": "REQUIRE_ENCRYPT_REQUIRE_DECRYPT",
        "max_encrypted_data_keys": 1,
        "algorithm_suite": "AES_256_GCM_HKDF_SHA512_COMMIT_KEY",
        "provider": "RawMasterKey",
    }
