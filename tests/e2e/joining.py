"""The default way a member enters a group in tests: invitation, join request, admission."""

import uuid

from cordon_client._client import Cordon


async def admit(coord: Cordon, member: Cordon, gid: uuid.UUID, username: str) -> None:
    """The coordinator invites, the member answers, the coordinator certifies the bound key."""
    text = await coord.invite(gid, for_user=username)
    assert await member.request_join(text) == gid
    assert await coord.add_member(gid, username) == "invitation"
