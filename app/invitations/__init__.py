"""Invitations and join requests: the server's half of binding a member key out of band."""
