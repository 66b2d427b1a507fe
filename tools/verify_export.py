"""Check a freight waybill record export offline, with nothing but the platform's public key.

Usage::

    python tools/verify_export.py EXPORT.json PUBLIC_KEY.pem

Exits 0 and prints ``intact`` when every link and the head signature check out; exits 1 and names
the first broken link otherwise (2 for unreadable input). Needs the Python standard library and
``cryptography`` only, and nothing from the freight code base: docs/verification.md describes the
same procedure for reimplementing it in another language.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

EXPORT_FORMAT = "freight-waybill-record/1"


def canonical_json(value: Any) -> bytes:
    """UTF-8 JSON with sorted keys and no whitespace; integral numbers written as integers."""
    return json.dumps(
        _integral_as_int(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def _integral_as_int(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _integral_as_int(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral_as_int(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def signature_valid(public_key: Ed25519PublicKey, signature_hex: Any, message: bytes) -> bool:
    try:
        public_key.verify(bytes.fromhex(str(signature_hex)), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def first_problem(export: dict[str, Any], public_key: Ed25519PublicKey) -> str | None:
    """``None`` if the export verifies, else a description of the first broken link."""
    if export.get("format") != EXPORT_FORMAT:
        return f"not a {EXPORT_FORMAT} document"
    number = export.get("number")
    prev_hash = None
    links = export.get("links")
    if not isinstance(links, list):
        return "no list of links"
    for position, link in enumerate(links, start=1):
        if not isinstance(link, dict):
            return f"link {position}: not an object"
        name = f"link {position} ({link.get('kind')} {link.get('ref')})"
        if link.get("position") != position or link.get("prev_hash") != prev_hash:
            return f"{name}: chain order broken"
        payload = link.get("payload")
        if not isinstance(payload, dict) or payload.get("waybill") != number or payload.get("kind") != link["kind"]:
            return f"{name}: payload changed"
        if sha256_hex(canonical_json(payload)) != link.get("payload_sha256"):
            return f"{name}: payload changed"
        fields = {
            "position": position,
            "kind": link.get("kind"),
            "ref": link.get("ref"),
            "payload_sha256": link["payload_sha256"],
            "prev_hash": prev_hash,
        }
        expected_hash = sha256_hex(canonical_json(fields))
        if link.get("hash") != expected_hash:
            return f"{name}: link hash wrong"
        if not signature_valid(public_key, link.get("signature"), bytes.fromhex(expected_hash)):
            return f"{name}: signature invalid"
        prev_hash = expected_hash
    if export.get("length") != len(links) or export.get("head") != prev_hash:
        return f"link {len(links)}: head mismatch (the export's head or length is not its last link's)"
    statement = {"format": EXPORT_FORMAT, "number": number, "length": len(links), "head": prev_hash}
    if not signature_valid(public_key, export.get("head_signature"), canonical_json(statement)):
        return f"link {len(links)}: head signature invalid"
    return None


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    try:
        export = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
        public_key = serialization.load_pem_public_key(Path(argv[2]).read_bytes())
    except (OSError, ValueError) as exc:
        print(f"cannot read the input: {exc}", file=sys.stderr)
        return 2
    if not isinstance(public_key, Ed25519PublicKey):
        print("the public key is not an Ed25519 key", file=sys.stderr)
        return 2
    if not isinstance(export, dict):
        print("broken: the export is not a JSON object")
        return 1
    problem = first_problem(export, public_key)
    if problem is not None:
        print(f"broken: {problem}")
        return 1
    print(f"intact: waybill {export['number']}, {len(export['links'])} links, head {export['head']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
