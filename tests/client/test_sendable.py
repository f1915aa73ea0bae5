"""Which kinds the SDK's `send` and `send_many` post, checked before anything is encrypted."""

import pytest
from cordon_client.crypto import ContentType
from cordon_client.exceptions import CordonClientError
from cordon_client.messaging.client import _sendable


def test_alerts_and_chat_are_sent_with_their_content_types() -> None:
    assert _sendable("alert") is ContentType.ALERT
    assert _sendable("chat") is ContentType.MESSAGE


@pytest.mark.parametrize("kind", ["prenotification", "sender_key", "library", "nonsense"])
def test_other_kinds_are_refused_with_the_kinds_that_are_allowed(kind: str) -> None:
    with pytest.raises(CordonClientError, match=r"cannot send kind .*'alert', 'chat'"):
        _sendable(kind)
