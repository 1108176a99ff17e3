"""Key file formats: streamed JSON equals the whole document; JWE only for strong public recipient keys."""

import io
import json

import pytest

from chalicelib.services.keys import files as key_files
from chalicelib.services.keys.files import RecipientKeyInvalid, RecipientKeyMissing
from tests.jose_keys import private_and_public

KEYS = [{"name": "app", "algorithm": "AES256", "hex": "ab" * 32}]


@pytest.mark.parametrize(
    "kty,size,alg",
    [("RSA", 3072, "RSA-OAEP-256"), ("EC", "P-256", "ECDH-ES+A256KW"), ("EC", "P-384", "ECDH-ES+A256KW")],
)
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
        JWE().deserialize(
            sealed, key=other if kty == "RSA" else private_and_public("EC", "P-256" if size == "P-384" else "P-384")[0]
        )


@pytest.mark.parametrize(
    "jwk,why",
    [
        (lambda: private_and_public("RSA", 2048)[1], "2048 bits"),
        (lambda: private_and_public("EC", "P-521")[1], "P-256 or P-384"),
        (lambda: json.loads(private_and_public("EC", "P-256")[0].export_private()), "no private part"),
        (lambda: {**private_and_public("EC", "P-256")[1], "use": "sig"}, "no private part"),
        (lambda: {"kty": "oct", "k": "c2VjcmV0"}, "public JWK"),
        (lambda: {"kty": "RSA", "n": "AQAB", "e": "AQAB"}, "bits"),
        (lambda: {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}, "public JWK"),
        (lambda: ["not", "a", "key"], "public JWK"),
    ],
)
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


@pytest.mark.parametrize("text", ["{not json", "[" * 100_000])  # the second nests past the parser's stack
def test_a_request_key_that_is_no_json_is_refused_as_such_even_with_a_key_on_the_profile(text):
    with pytest.raises(RecipientKeyInvalid) as refused:
        key_files.choose_recipient(text, private_and_public("EC", "P-384")[1])
    assert refused.value.message == "recipient_jwk is not valid JSON."


def test_the_streamed_json_file_is_the_whole_document():
    class Device:
        def __init__(self, serial):
            self.serial, self.product_type = serial, "meter"

    rows = [(Device(f"S-{n}"), KEYS) for n in range(3)]
    assert json.loads(key_files.render_keys(rows, "json")) == {
        "devices": [{"serial": f"S-{n}", "product_type": "meter", "keys": KEYS} for n in range(3)]
    }
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


def test_a_csv_file_separates_with_semicolons_by_default_ends_lines_with_crlf_and_counts_devices():
    out = io.StringIO()
    writer = key_files.KeyFileWriter(out, "csv")
    writer.add("S-1", "meter", KEYS)
    writer.add("S-2", "meter", KEYS + KEYS)
    writer.add("S-3", "meter", KEYS)
    assert writer.count == 3
    assert out.getvalue().split("\r\n")[:2] == [
        "serial;product_type;key_name;algorithm;key_hex",
        "S-1;meter;app;AES256;" + "ab" * 32,
    ]


def test_a_json_file_is_compact():
    out = io.StringIO()
    writer = key_files.KeyFileWriter(out, "json")
    writer.add("S-1", "meter", KEYS)
    writer.close()
    assert (
        out.getvalue() == '{"devices":[{"serial":"S-1","product_type":"meter","keys":[{"name":"app",'
        '"algorithm":"AES256","hex":"' + "ab" * 32 + '"}]}]}'
    )


@pytest.fixture(scope="module")
def modulus():
    """The modulus of a real 3072-bit key: the product of two large primes."""
    return int.from_bytes(__import__("base64").urlsafe_b64decode(private_and_public("RSA", 3072)[1]["n"] + "=="), "big")


@pytest.mark.parametrize("exponent", [3, 9, 65537])
def test_an_odd_rsa_exponent_from_3_below_the_modulus_is_accepted(modulus, exponent):
    key_files._check_rsa_public(modulus, exponent)


@pytest.mark.parametrize("exponent", [1, 2, 4, 65536, "modulus", "modulus+2"])
def test_an_rsa_exponent_even_below_3_or_not_below_the_modulus_is_refused(modulus, exponent):
    exponent = {"modulus": modulus, "modulus+2": modulus + 2}.get(exponent, exponent)
    with pytest.raises(RecipientKeyInvalid) as refused:
        key_files._check_rsa_public(modulus, exponent)
    assert refused.value.message == "The RSA public exponent must be odd, at least 3 and below the modulus."


def test_an_rsa_modulus_with_a_small_factor_is_refused_by_name(modulus):
    with pytest.raises(RecipientKeyInvalid) as refused:
        key_files._check_rsa_public(modulus * 3, 65537)
    assert refused.value.message == (
        "The RSA modulus has a small prime factor: it is not the product of two large primes."
    )


def test_refusals_of_a_private_or_signing_key_and_of_a_curve_say_exactly_why():
    with pytest.raises(RecipientKeyInvalid) as refused:
        key_files.recipient_key({**private_and_public("EC", "P-256")[1], "use": "sig"})
    assert refused.value.message == ("recipient_jwk must be a public key for encryption (no private part, use enc).")
    with pytest.raises(RecipientKeyInvalid) as refused:
        key_files.recipient_key(private_and_public("EC", "P-521")[1])
    assert refused.value.message == "EC keys must be on P-256 or P-384."


def test_a_sealed_file_names_its_content_type_and_the_recipient_key():
    from jwcrypto.jwe import JWE
    from jwcrypto.jwk import JWK

    private, public = private_and_public("EC", "P-256")
    named = key_files.recipient_key({**public, "kid": "erp-2026"})
    assert named["kid"] == "erp-2026"
    for jwk, kid in ((named, "erp-2026"), (key_files.recipient_key(public), JWK(**public).thumbprint())):
        token = JWE()
        token.deserialize(key_files.seal(b"{}", jwk, "application/json"), key=private)
        assert (token.jose_header["cty"], token.jose_header["kid"]) == ("application/json", kid)


def test_a_recipient_key_is_named_by_its_rfc_7638_thumbprint():
    # The example of RFC 7638, section 3.1: the thumbprint ignores the members outside the key (alg, kid).
    rfc_key = {
        "kty": "RSA",
        "n": (
            "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3o"
            "knjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdA"
            "ZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-k"
            "EgU8awapJzKnqDKgw"
        ),
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert key_files.recipient_key_thumbprint(rfc_key) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    _, public = private_and_public("EC", "P-256")
    assert key_files.recipient_key_thumbprint(public) == key_files.recipient_key_thumbprint({**public, "kid": "other"})
