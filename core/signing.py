"""The platform's Ed25519 signing key: loaded from settings, or made once in the working directory.

The key signs each link of a waybill's tamper-evident record (``waybill.chain``); its public half is
published at ``GET /v1/signing-key`` so that anyone can check an exported record offline.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from core.settings import Settings, get_settings

__all__ = ("DEFAULT_KEY_FILE", "Signer", "SigningKeyError", "activate_signer", "get_signer", "platform_signer")

DEFAULT_KEY_FILE = "freight-signing.key"
"""Where the key lives when no setting names one (relative to the working directory)."""


class SigningKeyError(ValueError):
    """The configured signing key cannot be read."""


class Signer:
    """Signs bytes with the platform's Ed25519 key and describes its public half."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key
        self.public_key: Ed25519PublicKey = private_key.public_key()
        raw_public = self.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.key_id: str = hashlib.sha256(raw_public).hexdigest()[:16]
        """First 16 hex digits of the SHA-256 of the raw 32-byte public key."""
        self.public_key_pem: str = self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
        """The public key as a PEM ``PUBLIC KEY`` (SubjectPublicKeyInfo) block."""

    def sign(self, data: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``data``."""
        return self._private_key.sign(data)

    def verify(self, signature: bytes, data: bytes) -> bool:
        """Whether ``signature`` is this key's signature of ``data``."""
        try:
            self.public_key.verify(signature, data)
        except InvalidSignature:
            return False
        return True


def _parse_key(text: str, source: str) -> Ed25519PrivateKey:
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise SigningKeyError(f"{source}: not an Ed25519 private key")
            return key
        seed = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SigningKeyError(f"{source}: not a base64 Ed25519 seed or a PEM private key ({exc})") from None
    if len(seed) != 32:
        raise SigningKeyError(f"{source}: an Ed25519 seed is 32 bytes, not {len(seed)}")
    return Ed25519PrivateKey.from_private_bytes(seed)


def _read_or_create(path: Path) -> Ed25519PrivateKey:
    """Read the key file, or make it (mode 0600) if it does not exist; safe when processes race."""
    if not path.exists():
        seed = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(base64.b64encode(seed).decode() + "\n")
        try:
            # A hard link never replaces an existing file: the first process to get here wins.
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
    return _parse_key(path.read_text(), str(path))


@lru_cache(maxsize=4)
def _load_signer(signing_key: str, signing_key_file: str) -> Signer:
    if signing_key:
        return Signer(_parse_key(signing_key, "FREIGHT_SIGNING_KEY"))
    if signing_key_file:
        path = Path(signing_key_file)
        if not path.is_file():
            raise SigningKeyError(f"FREIGHT_SIGNING_KEY_FILE: no file {path}")
        return Signer(_parse_key(path.read_text(), str(path)))
    return Signer(_read_or_create(Path.cwd() / DEFAULT_KEY_FILE))


def get_signer(settings: Settings) -> Signer:
    """The signer for ``settings`` (loaded once per key setting).

    Raises:
        SigningKeyError: the configured key or key file cannot be read.
    """
    return _load_signer(settings.signing_key, settings.signing_key_file)


_active: Signer | None = None


def activate_signer(signer: Signer) -> None:
    """Make ``signer`` the process's platform signer (the application does this at start-up)."""
    global _active
    _active = signer


def platform_signer() -> Signer:
    """The signer activated at start-up, else that of the process-wide ``FREIGHT_*`` settings."""
    return _active if _active is not None else get_signer(get_settings())
