"""What the steps need to know of a dataset file: its content digest, the dataset version of builtin data."""

import hashlib

_CHUNK = 1 << 16


def file_sha256(path: str) -> str:
    """Hex SHA-256 of a file's content, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()
