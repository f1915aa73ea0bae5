"""The HPKE module needs cryptography 47: both packages declare it and the SDK checks it."""

import tomllib
from pathlib import Path

import pytest
from cordon_client.crypto._requirements import check_cryptography

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("version", ["44.0.3", "46.0.0", "9.1", "unknown"])
def test_an_older_cryptography_is_refused_at_import(version: str) -> None:
    """The check names the found version and the one needed."""
    with pytest.raises(ImportError, match=rf"needs cryptography>=47 .*; found {version}:"):
        check_cryptography(version)


@pytest.mark.parametrize("version", ["47.0.0", "48.0.1", "50.0.2.dev1"])
def test_version_47_and_later_pass(version: str) -> None:
    """Development and later releases pass."""
    check_cryptography(version)


@pytest.mark.parametrize("path", ["pyproject.toml", "clients/python/pyproject.toml"])
def test_both_packages_declare_cryptography_47(path: str) -> None:
    """Server and SDK both require the version whose HPKE the protocol uses."""
    deps = tomllib.loads((ROOT / path).read_text())["project"]["dependencies"]
    assert "cryptography>=47" in [d.replace(" ", "") for d in deps]
