"""Recipient key pairs for JWE tests (RSA generation is slow: cached per size)."""

import functools


@functools.lru_cache(maxsize=None)
def private_and_public(kty, size_or_curve):
    """(jwcrypto private JWK, public JWK as a dict)."""
    from jwcrypto.jwk import JWK

    key = JWK.generate(kty=kty, size=size_or_curve) if kty == "RSA" else JWK.generate(kty=kty, crv=size_or_curve)
    return key, key.export_public(as_dict=True)
