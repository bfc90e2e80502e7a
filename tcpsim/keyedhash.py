"""The keyed hash that stands in for the kernel's secret siphash keys.

Linux keys several choices with secrets drawn once at boot (``net_get_random_once()``):
the ephemeral-port offset (``secure_ipv4_port_ephemeral()``, net/core/secure_seq.c), the
SYN-cookie hashes (``cookie_hash()``, net/ipv4/syncookies.c) and the ISN. The simulator
must be reproducible, so its secret comes from the scenario's seed and the hash is
BLAKE2b keyed with it. Only the hash's *role* matters (unpredictable to an outsider, the
same for the same inputs); nobody can, or should, reproduce the kernel's actual values.
"""
from __future__ import annotations

import hashlib


_KEYED = {}          # (secret, bits) -> a keyed BLAKE2b state to copy (keying costs 3 us)


def keyed_hash(secret: bytes, *parts, bits: int = 32) -> int:
    """An unsigned ``bits``-bit keyed hash of ``parts`` (ints, strings, tuples)."""
    base = _KEYED.get((secret, bits)) if type(secret) is bytes else None
    if base is None:
        if not isinstance(secret, (bytes, bytearray)) or not 1 <= len(secret) <= 64:
            raise ValueError("secret: must be 1 to 64 bytes")
        if bits % 8 or not 8 <= bits <= 512:
            raise ValueError("bits: must be a multiple of 8 between 8 and 512")
        base = hashlib.blake2b(key=bytes(secret), digest_size=bits // 8)
        if type(secret) is bytes and len(_KEYED) < 4096:
            _KEYED[(secret, bits)] = base
    digest = base.copy()
    digest.update(repr(parts).encode())
    return int.from_bytes(digest.digest(), "big")


def secret_from_seed(seed: int, purpose: str) -> bytes:
    """A 16-byte secret for one purpose ("ports", "syncookies", ...) drawn from a seed."""
    return hashlib.blake2b(f"{purpose}:{int(seed)}".encode(), digest_size=16).digest()
