"""Key file formats: streamed JSON equals the whole document; JWE only for strong public recipient keys."""
import io
import json

import pytest

from chalicelib.services import key_files
from chalicelib.services.key_files import RecipientKeyInvalid, RecipientKeyMissing
from tests.jose_keys import private_and_public

KEYS = [{"name": "app", "algorithm": "AES256", "hex": "ab" * 32}]


@pytest.mark.parametrize("kty,size,alg", [("RSA", 3072, "RSA-OAEP-256"), ("EC", "P-256", "ECDH-ES+A256KW"),
                                          ("EC", "P-384", "ECDH-ES+A256KW")])
def test_a_sealed_file_opens_only_with_the_recipients_private_key(kty, size, alg):
    from jwcrypto.jwe import JWE, InvalidJWEData

    private, public = private_and_public(kty, size)
    sealed = key_files.seal(b'{"devices":[]}', key_files.recipient_key(public), "application/json")
    assert sealed.count(".") == 4  # compact serialization: five parts
    token = JWE()
    token.deserialize(sealed, key=private)
    assert token.payload == b'{"devices":[]}'
    assert (token.jose_header["alg"], token.jose_header["enc"]) == (alg, "A256GCM")
    other, _ = private_and_public(kty, size if kty == "EC" else 4096)
    with pytest.raises((InvalidJWEData, ValueError)):
        JWE().deserialize(sealed, key=other if kty == "RSA" else private_and_public("EC", "P-256" if size == "P-384"
                                                                                    else "P-384")[0])


@pytest.mark.parametrize("jwk,why", [
    (lambda: private_and_public("RSA", 2048)[1], "2048 bits"),
    (lambda: private_and_public("EC", "P-521")[1], "P-256 or P-384"),
    (lambda: json.loads(private_and_public("EC", "P-256")[0].export_private()), "no private part"),
    (lambda: {**private_and_public("EC", "P-256")[1], "use": "sig"}, "no private part"),
    (lambda: {"kty": "oct", "k": "c2VjcmV0"}, "public JWK"),
    (lambda: {"kty": "RSA", "n": "AQAB", "e": "AQAB"}, "bits"),
    (lambda: {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}, "public JWK"),
    (lambda: ["not", "a", "key"], "public JWK"),
])
def test_weak_private_or_malformed_recipient_keys_are_refused(jwk, why):
    with pytest.raises(RecipientKeyInvalid) as refused:
        key_files.recipient_key(jwk())
    assert why in refused.value.message


def test_the_request_key_wins_over_the_profile_key_and_one_of_them_is_needed():
    _, request_key = private_and_public("EC", "P-256")
    _, profile_key = private_and_public("EC", "P-384")
    assert key_files.choose_recipient(json.dumps(request_key), profile_key)["crv"] == "P-256"
    assert key_files.choose_recipient(None, profile_key)["crv"] == "P-384"
    with pytest.raises(RecipientKeyMissing):
        key_files.choose_recipient(None, None)
    with pytest.raises(RecipientKeyInvalid):
        key_files.choose_recipient("{not json", profile_key)


def test_the_streamed_json_file_is_the_whole_document():
    class Device:
        def __init__(self, serial):
            self.serial, self.product_type = serial, "meter"

    rows = [(Device(f"S-{n}"), KEYS) for n in range(3)]
    assert json.loads(key_files.render_keys(rows, "json")) == {"devices": [
        {"serial": f"S-{n}", "product_type": "meter", "keys": KEYS} for n in range(3)]}
    assert json.loads(key_files.render_keys([], "json")) == {"devices": []}
    out = io.StringIO()
    key_files.KeyFileWriter(out, "csv", ",").close()
    assert out.getvalue() == "serial,product_type,key_name,algorithm,key_hex\r\n"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_csv_cell_a_spreadsheet_would_run_as_a_formula_is_quoted_out(start):
    class Device:
        serial, product_type = start + "SUM(A1)", "meter"

    text = key_files.render_keys([(Device(), [{"name": start + "cmd", "algorithm": "AES256", "hex": "ab"}])], "csv")
    import csv

    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert rows[1][0] == "'" + start + "SUM(A1)"
    assert rows[1][2] == "'" + start + "cmd"
