"""Refuse to run on a `cryptography` too old for the protocol: HPKE arrived in version 47."""

from __future__ import annotations

import re

import cryptography

MIN_CRYPTOGRAPHY = (47, 0)


def check_cryptography(version: str) -> None:
    """Raise ImportError naming the installed and the needed version when it is too old."""
    match = re.match(r"(\d+)\.(\d+)", version)
    found = (int(match[1]), int(match[2])) if match else (0, 0)
    if found < MIN_CRYPTOGRAPHY:
        raise ImportError(
            f"cordon_client needs cryptography>=47 (for its HPKE module); found {version}: "
            "upgrade with `pip install -U 'cryptography>=47'`"
        )


check_cryptography(cryptography.__version__)
