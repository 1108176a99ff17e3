"""Key files in their three formats: CSV, JSON, and JSON sealed for one recipient as a compact JWE.

A JWE recipient is a public JWK: RSA of at least 3,072 bits (RSA-OAEP-256) or EC P-256/P-384 (ECDH-ES+A256KW),
content encrypted with A256GCM. jwcrypto is imported on first use only.
"""

import csv
import io
import json
from typing import Any, Dict, Iterable, List, Optional, TextIO, Tuple

from chalicelib.errors import Unprocessable

FORMATS = ("csv", "json", "jwe")
CSV_COLUMNS = ("serial", "product_type", "key_name", "algorithm", "key_hex")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json", "jwe": "application/jose"}
EXTENSIONS = {"csv": "csv", "json": "json", "jwe": "jwe"}
MIN_RSA_BITS = 3072
# Primes below 1,000: a modulus with one of them as a factor is broken by trial division (and an even one makes
# OpenSSL fail at encryption time).
SMALL_PRIMES = tuple(p for p in range(2, 1000) if all(p % q for q in range(2, int(p**0.5) + 1)))
EC_CURVES = ("P-256", "P-384")
CONTENT_ENCRYPTION = "A256GCM"


class RecipientKeyInvalid(Unprocessable):
    code = "recipient_key_invalid"
    message = (
        "recipient_jwk must be a public JWK: RSA of at least 3,072 bits, or EC on P-256 or P-384, meant for encryption."
    )


class RecipientKeyMissing(Unprocessable):
    code = "recipient_key_missing"
    message = (
        "format jwe needs a recipient public key: send recipient_jwk, or register one on your profile (PATCH /me)."
    )


class KeyFileWriter:
    """Writes devices and their plaintext keys to a text stream, one device at a time, in CSV or JSON."""

    def __init__(self, out: TextIO, file_format: str, delimiter: str = ";"):
        self.out, self.format, self.count = out, file_format, 0
        if file_format == "csv":
            self._csv = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
            self._csv.writerow(CSV_COLUMNS)
        else:
            out.write('{"devices":[')

    def add(self, serial: str, product_type: str, keys: List[Dict[str, str]]) -> None:
        """One device with its keys."""
        if self.format == "csv":
            for key in keys:
                self._csv.writerow(
                    [_cell(value) for value in (serial, product_type, key["name"], key["algorithm"], key["hex"])]
                )
        else:
            self.out.write(
                ("," if self.count else "")
                + json.dumps({"serial": serial, "product_type": product_type, "keys": keys}, separators=(",", ":"))
            )
        self.count += 1

    def close(self) -> None:
        """Finish the document (JSON needs its closing brackets)."""
        if self.format != "csv":
            self.out.write("]}")


def render_keys(rows: Iterable[Tuple[Any, List[Dict[str, str]]]], file_format: str, delimiter: str = ";") -> str:
    """(device, keys) pairs as one CSV or JSON document."""
    out = io.StringIO()
    writer = KeyFileWriter(out, file_format, delimiter)
    for device, keys in rows:
        writer.add(device.serial, device.product_type, keys)
    writer.close()
    return out.getvalue()


def _cell(value: str) -> str:
    """A spreadsheet would run a cell starting with = + - @ tab or CR as a formula: quote it out."""
    return "'" + value if value and value.startswith(FORMULA_STARTS) else value


def recipient_key(jwk: Any) -> Dict[str, Any]:
    """The public part of an acceptable recipient JWK; RecipientKeyInvalid for anything weak or unfit."""
    from jwcrypto.jwk import JWK

    if not isinstance(jwk, dict) or jwk.get("kty") not in ("RSA", "EC"):
        raise RecipientKeyInvalid()
    if jwk.get("use", "enc") != "enc" or "d" in jwk:
        raise RecipientKeyInvalid("recipient_jwk must be a public key for encryption (no private part, use enc).")
    try:
        key = JWK(**jwk)
        public = key.export_public(as_dict=True)
        if jwk["kty"] == "EC" and jwk.get("crv") not in EC_CURVES:
            raise RecipientKeyInvalid("EC keys must be on P-256 or P-384.")
        material = key.get_op_key("wrapKey")  # builds the key: an EC point off its curve fails here
        if jwk["kty"] == "RSA":
            _check_rsa_public(material.public_numbers().n, material.public_numbers().e)
    except RecipientKeyInvalid:
        raise
    except Exception:  # jwcrypto and cryptography raise many kinds for malformed keys
        raise RecipientKeyInvalid() from None
    return {name: public[name] for name in ("kty", "n", "e", "crv", "x", "y", "kid") if name in public}


def recipient_key_thumbprint(jwk: Dict[str, Any]) -> str:
    """The RFC 7638 thumbprint (SHA-256, base64url) a person recognizes their recipient key by."""
    from jwcrypto.jwk import JWK

    return JWK(**jwk).thumbprint()


def _check_rsa_public(modulus: int, exponent: int) -> None:
    """RecipientKeyInvalid for an RSA public key nobody could hold safely: too short, a modulus with a small
    factor (even, divisible by 3, ...), or an exponent that is even, below 3 or not below the modulus."""
    if modulus.bit_length() < MIN_RSA_BITS:
        raise RecipientKeyInvalid(f"The RSA key has {modulus.bit_length()} bits; at least {MIN_RSA_BITS:,} are needed.")
    if any(modulus % prime == 0 for prime in SMALL_PRIMES):
        raise RecipientKeyInvalid(
            "The RSA modulus has a small prime factor: it is not the product of two large primes."
        )
    if exponent < 3 or exponent % 2 == 0 or exponent >= modulus:
        raise RecipientKeyInvalid("The RSA public exponent must be odd, at least 3 and below the modulus.")


def key_algorithm(jwk: Dict[str, Any]) -> str:
    """The key management algorithm for a recipient key."""
    return "RSA-OAEP-256" if jwk["kty"] == "RSA" else "ECDH-ES+A256KW"


def seal(plaintext: bytes, jwk: Dict[str, Any], content_type: str) -> str:
    """The plaintext encrypted to the recipient key as a compact JWE."""
    from jwcrypto.jwe import JWE
    from jwcrypto.jwk import JWK

    key = JWK(**jwk)
    header = {
        "alg": key_algorithm(jwk),
        "enc": CONTENT_ENCRYPTION,
        "cty": content_type,
        "kid": jwk.get("kid") or key.thumbprint(),
    }
    token = JWE(plaintext, protected=json.dumps(header))
    token.add_recipient(key)
    return token.serialize(compact=True)


def choose_recipient(given: Any, on_profile: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """The key a jwe file is sealed for: the request's (a JWK, or its JSON text), else the one on the profile."""
    if isinstance(given, str):
        try:
            given = json.loads(given)
        except (ValueError, RecursionError):  # RecursionError: nested past the parser's stack
            raise RecipientKeyInvalid("recipient_jwk is not valid JSON.") from None
    if given is not None:
        return recipient_key(given)
    if on_profile:
        return recipient_key(on_profile)
    raise RecipientKeyMissing()
