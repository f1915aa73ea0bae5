"""The SDK as a service account, against a real server: it logs in with its credential,
renews its one-hour token by itself, and stops with the server's code once revoked."""

from pathlib import Path

import pyotp
import pytest
from cordon_client._client import Cordon
from cordon_client.account.client import TOKEN_EXPIRES
from cordon_client.exceptions import ApiError
from sqlalchemy.ext.asyncio import AsyncSession

from tests import factories as f
from tests.e2e.server import Server

pytestmark = pytest.mark.e2e
PASSPHRASE = "keystore passphrase for tests"


async def test_credential_login_renewal_and_revocation(
    server: Server, session: AsyncSession, tmp_path: Path
):
    """A token due to end is replaced before the call; a revoked account's next call
    fails with `service_account.invalid_credential`, without a retry loop."""
    admin_u, seed = await f.user(session, admin=True, totp=True)
    admin = Cordon(tmp_path / "admin", PASSPHRASE, server=server.base, scrypt_n=2**14)
    await admin.login(admin_u.username, f.PASSWORD, pyotp.TOTP(seed).now())
    gid = await admin.create_group("Operation Renewal", coordinator_id=admin_u.id)
    account, credential = await admin.create_service_account(
        "svc-renewal", group_ids=[gid], operations=["cases.post"]
    )
    assert account["organisation_id"] == str(admin_u.organisation_id)
    assert [a["username"] for a in await admin.service_accounts()] == ["svc-renewal"]

    machine = Cordon(
        tmp_path / "svc", credential, server=server.base, scrypt_n=2**14, credential=credential
    )
    profile = await machine.login_with_credential(credential)
    assert profile.username == "svc-renewal" and profile.user_id == account["user_id"]
    first = machine.state.token
    assert (await machine.groups()) == []  # scoped to the group, not admitted yet
    assert machine.state.token == first

    machine.state.set_secret(TOKEN_EXPIRES, b"2000-01-01T00:00:00+00:00")
    await machine.groups()
    assert machine.state.token != first
    await machine.aclose()

    again = Cordon(tmp_path / "svc", credential, server=server.base, credential=credential)
    assert again.state.profile is not None and again.state.profile.device_id == profile.device_id
    await admin.revoke_service_account("svc-renewal")
    with pytest.raises(ApiError) as refused:
        await again.groups()
    assert refused.value.code == "service_account.invalid_credential"
    await again.aclose()
    await admin.aclose()
