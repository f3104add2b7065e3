"""Hand-made JSON Web Tokens for the authentication tests: standard library
only (hmac, hashlib, base64), so that a forged token depends on nothing the
service uses itself.

    forge(header, claims, key)           sign with HMAC-SHA256 (key: bytes)
    forge(header, claims, key, "HS512")  another HMAC
    forge(header, claims, None)          no signature: "h.p."
    decode(token)                        (header, claims) without checking
"""

import base64
import hashlib
import hmac
import json

DIGESTS = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def b64url(data):
    """Unpadded base64url of bytes (or of a str's UTF-8)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    text = text + "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(text.encode("ascii"))


def segment(part):
    """A dict is serialised compactly as JSON; bytes and str go as they are."""
    if isinstance(part, dict):
        part = json.dumps(part, separators=(",", ":"))
    return b64url(part)


def sign(signing_input, key, mac="HS256"):
    if isinstance(key, str):
        key = key.encode("utf-8")
    return b64url(hmac.new(key, signing_input.encode("ascii"), DIGESTS[mac]).digest())


def forge(header, claims, key, mac="HS256"):
    """header.claims.signature; key None gives an empty signature. mac is
    the HMAC actually computed, whatever the header claims."""
    signing_input = segment(header) + "." + segment(claims)
    sig = "" if key is None else sign(signing_input, key, mac)
    return signing_input + "." + sig


def decode(token):
    """(header, claims) of a compact JWS, without verifying anything."""
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("not three segments: %r" % token[:80])
    return (json.loads(b64url_decode(parts[0])), json.loads(b64url_decode(parts[1])))


def verify_hs256(token, key):
    """True when token's signature is HMAC-SHA256 over its first two segments."""
    head, _, sig = token.rpartition(".")
    if isinstance(key, str):
        key = key.encode("utf-8")
    return hmac.compare_digest(sign(head, key), sig)
