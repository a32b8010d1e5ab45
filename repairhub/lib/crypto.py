"""Field encryption at rest (PF4) and blind indexes to find encrypted values.

Values are encrypted with AES-GCM under a key derived from FIELD_ENCRYPTION_KEY; a separate
derived key makes the HMAC-SHA256 blind index, so equal phone numbers can be looked up without
decrypting every row. Ciphertext is stored as text: "v1:" + urlsafe base64(nonce || ct).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import models

_PREFIX = "v1:"


@lru_cache(maxsize=4)
def _keys(secret: str) -> tuple[bytes, bytes]:
    master = hashlib.sha256(secret.encode()).digest()
    enc = hmac.new(master, b"repairhub/field-encryption", hashlib.sha256).digest()
    idx = hmac.new(master, b"repairhub/blind-index", hashlib.sha256).digest()
    return enc, idx


def encrypt(plaintext: str) -> str:
    if plaintext == "":
        return ""
    enc, _ = _keys(settings.FIELD_ENCRYPTION_KEY)
    nonce = os.urandom(12)
    ct = AESGCM(enc).encrypt(nonce, plaintext.encode(), None)
    return _PREFIX + base64.urlsafe_b64encode(nonce + ct).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    if not token.startswith(_PREFIX):
        raise ValueError("value is not RepairHub ciphertext")
    enc, _ = _keys(settings.FIELD_ENCRYPTION_KEY)
    raw = base64.urlsafe_b64decode(token[len(_PREFIX) :])
    return AESGCM(enc).decrypt(raw[:12], raw[12:], None).decode()


def blind_index(value: str) -> str:
    """A keyed digest of a normalised value: equal inputs give equal digests, nothing else leaks."""
    if not value:
        return ""
    _, idx = _keys(settings.FIELD_ENCRYPTION_KEY)
    return hmac.new(idx, value.encode(), hashlib.sha256).hexdigest()[:40]


def token_digest(token: str) -> str:
    """Digest for API tokens: fast (looked up on every call), not a password hash."""
    return hashlib.sha256(token.encode()).hexdigest()


class EncryptedTextField(models.TextField):
    """A text column whose value is AES-GCM ciphertext in the database and plain text in Python.

    It cannot be filtered on; pair it with a blind-index column for look-ups.
    """

    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None:
            return value
        return encrypt(value)
