"""The local backends of exports: a queue folder taken exactly once, files sealed at rest and written whole."""

import os

import pytest

from chalicelib.crypto import KeyMaterialUnreadable
from chalicelib.services.keys import export_storage


def test_queued_jobs_are_taken_oldest_first_and_only_once(local_exports):
    for export_id in ("exp_b", "exp_a", "exp_c"):
        export_storage.enqueue(export_id)
    assert export_storage.take_local_jobs() == ["exp_b", "exp_a", "exp_c"]
    assert export_storage.take_local_jobs() == []
    assert oct(os.stat(local_exports / "export-queue").st_mode & 0o777) == "0o700"


def test_a_stored_file_is_sealed_at_rest_readable_only_as_its_own_export_and_deleted(local_exports, tmp_path):
    plain = tmp_path / "keys.csv"
    plain.write_bytes(b"serial;key_hex\r\nS-1;00112233445566778899aabbccddeeff\r\n")
    export_storage.store("exp_1", str(plain), "text/csv", "keys.csv")
    sealed = local_exports / "exports" / "exp_1.sealed"
    assert b"00112233" not in sealed.read_bytes() and b"S-1" not in sealed.read_bytes()
    assert oct(os.stat(sealed).st_mode & 0o777) == "0o600"
    assert export_storage.read_local("exp_1") == plain.read_bytes()
    os.replace(sealed, local_exports / "exports" / "exp_2.sealed")  # a file moved to another export's name
    with pytest.raises(KeyMaterialUnreadable):
        export_storage.read_local("exp_2")
    export_storage.delete("exp_2")
    assert not list((local_exports / "exports").iterdir())
    assert export_storage.download_url("exp_1", "keys.csv") is None  # locally the API answers the file itself
