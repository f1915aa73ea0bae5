"""One-time prekeys: signatures, which prekey a sender picks, and opening a wrap only once."""

from __future__ import annotations

import uuid

import pytest
from cordon_client.crypto import ContentType, GroupSession, parse_envelope
from cordon_client.crypto.keys import DAY_MS, SignedPrekey
from cordon_client.crypto.keystore import KeystoreData
from cordon_client.crypto.prekeys import (
    KEEP_PRIVATE_MAX,
    ClaimLedger,
    OneTimePrekey,
    OneTimePrekeyStore,
    PrekeyType,
    choose_prekey,
    make_one_time_prekey,
    parse_claim,
    select_recipients,
    verify_one_time_prekey,
    wrap_prekey,
)
from cordon_client.exceptions import (
    KeyUnavailableError,
    MalformedError,
    PrekeyReuseError,
    SignatureError,
    UntrustedSenderError,
)
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.keys import envelope as server_envelope
from app.keys.protocol import FormatError
from tests.crypto.helpers import T0, Group, make_group


def _pair(group: Group) -> tuple[uuid.UUID, uuid.UUID]:
    sender, receiver = group.device_ids()[:2]
    return sender, receiver


def _receiver_session(group: Group, device_id: uuid.UUID, store: OneTimePrekeyStore):
    return GroupSession(
        roster=group.roster(),
        device_id=device_id,
        signing_key=group.key_of(device_id),
        prekeys={1: group.prekeys[device_id][0]},
        one_time_prekeys=store,
    )


def _seal(group: Group, sender: uuid.UUID, receiver: uuid.UUID, claimed, ledger, content=b"hi"):
    session = group.session(sender)
    selection = select_recipients(
        session.roster,
        [receiver],
        signed=group.served_prekeys(),
        claimed={receiver: claimed} if claimed else {},
        now_ms=T0 + 1,
        ledger=ledger,
    )
    data = session.encrypt_targeted(
        ContentType.MESSAGE, content, selection.recipients, now_ms=T0 + 1
    )
    return data, selection


def test_a_one_time_prekey_verifies_only_under_its_device_key() -> None:
    """The signature binds device, id and key; another device or key is named and refused."""
    key, device = Ed25519PrivateKey.generate(), uuid.uuid4()
    _, prekey = make_one_time_prekey(key, device, 5)
    pub = key.public_key().public_bytes_raw()
    assert verify_one_time_prekey(prekey, device, pub).public_bytes_raw() == prekey.public_key
    other = uuid.uuid4()
    with pytest.raises(UntrustedSenderError, match=f"it names device {device}"):
        verify_one_time_prekey(prekey, other, pub)
    moved = OneTimePrekey(device, 6, prekey.public_key, prekey.signature)
    with pytest.raises(
        SignatureError, match=f"^one-time prekey 6 of device {device}: signature does not verify$"
    ):
        verify_one_time_prekey(moved, device, pub)


def test_the_json_form_is_strict() -> None:
    """Extra fields, bad ids and bad base64 are refused with the field named."""
    _, prekey = make_one_time_prekey(Ed25519PrivateKey.generate(), uuid.uuid4(), 1)
    obj = prekey.to_json()
    assert OneTimePrekey.from_json(obj) == prekey
    with pytest.raises(MalformedError, match="fields must be exactly"):
        OneTimePrekey.from_json({**obj, "extra": 1})
    with pytest.raises(MalformedError, match="prekey_id"):
        OneTimePrekey.from_json({**obj, "prekey_id": 1 << 32})
    with pytest.raises(MalformedError, match="public_key"):
        OneTimePrekey.from_json({**obj, "public_key": "AAAA"})


def test_a_sender_picks_the_verified_one_time_prekey() -> None:
    """A claimed, verified one-time prekey wins over the signed prekey and is recorded."""
    group = make_group(2)
    sender, receiver = _pair(group)
    _, claimed = make_one_time_prekey(group.key_of(receiver), receiver, 7)
    ledger = ClaimLedger()
    recipient, refusal = choose_prekey(
        group.roster(),
        receiver,
        claimed=claimed,
        signed=group.served_prekeys()[receiver],
        now_ms=T0 + 1,
        ledger=ledger,
    )
    assert (recipient.prekey_type, recipient.prekey_id, refusal) == (PrekeyType.ONE_TIME, 7, None)
    assert ledger.highest == {receiver: 7}


@pytest.mark.parametrize("case", ["reused", "forged", "other device"])
def test_a_bad_one_time_prekey_is_refused_and_the_signed_prekey_used(case: str) -> None:
    """Served twice, signed by another key, or for another device: refused with its reason,
    and the wrap goes to the device's signed prekey."""
    group = make_group(2)
    sender, receiver = _pair(group)
    ledger = ClaimLedger({receiver: 9})
    signer = group.key_of(receiver) if case != "forged" else Ed25519PrivateKey.generate()
    named = receiver if case != "other device" else sender
    _, claimed = make_one_time_prekey(signer, named, 9 if case == "reused" else 10)
    recipient, refusal = choose_prekey(
        group.roster(),
        receiver,
        claimed=claimed,
        signed=group.served_prekeys()[receiver],
        now_ms=T0 + 1,
        ledger=ledger,
    )
    assert (recipient.prekey_type, recipient.prekey_id) == (PrekeyType.SIGNED, 1)
    expected = {
        "reused": (PrekeyReuseError, "is not newer than one this client already used (9)"),
        "forged": (SignatureError, f"one-time prekey 10 of device {receiver}: signature does"),
        "other device": (UntrustedSenderError, f"it names device {sender}"),
    }[case]
    assert isinstance(refusal, expected[0])
    assert expected[1] in refusal.reason
    assert ledger.highest == {receiver: 9}


def test_an_expired_signed_prekey_is_refused_unless_a_one_time_prekey_verifies() -> None:
    """No one-time prekey and an expired signed prekey: the device cannot be sealed to."""
    group = make_group(2)
    sender, receiver = _pair(group)
    signed = group.served_prekeys()[receiver]
    later = T0 + 8 * DAY_MS
    with pytest.raises(KeyUnavailableError, match=f"prekey 1 of {receiver} is expired"):
        choose_prekey(
            group.roster(),
            receiver,
            claimed=None,
            signed=signed,
            now_ms=later,
            ledger=ClaimLedger(),
        )
    _, claimed = make_one_time_prekey(group.key_of(receiver), receiver, 1)
    recipient, _ = choose_prekey(
        group.roster(), receiver, claimed=claimed, signed=signed, now_ms=later, ledger=ClaimLedger()
    )
    assert recipient.prekey_type == PrekeyType.ONE_TIME


def test_a_one_time_prekey_opens_one_envelope_then_is_gone() -> None:
    """The receiver deletes the private half after the first envelope opens; a second
    envelope sealed to the same key fails with KeyUnavailableError."""
    group = make_group(2)
    sender, receiver = _pair(group)
    store = OneTimePrekeyStore()
    [claimed] = store.generate(group.key_of(receiver), receiver, 1)
    first, _ = _seal(group, sender, receiver, claimed, ClaimLedger())
    assert wrap_prekey(parse_envelope(first), receiver) == (PrekeyType.ONE_TIME, 1)
    second, _ = _seal(group, sender, receiver, claimed, ClaimLedger(), b"again")
    session = _receiver_session(group, receiver, store)
    assert session.decrypt(first).content == b"hi"
    assert store.privates == {}
    with pytest.raises(KeyUnavailableError, match="^one-time prekey 1 is unknown or already used$"):
        session.decrypt(second)


def test_a_tampered_envelope_does_not_use_up_the_one_time_prekey() -> None:
    """A forged envelope naming the key fails its signature and leaves the key in place."""
    group = make_group(2)
    sender, receiver = _pair(group)
    store = OneTimePrekeyStore()
    [claimed] = store.generate(group.key_of(receiver), receiver, 1)
    data, _ = _seal(group, sender, receiver, claimed, ClaimLedger())
    tampered = bytearray(data)
    tampered[-1] ^= 1
    session = _receiver_session(group, receiver, store)
    with pytest.raises(SignatureError):
        session.decrypt(bytes(tampered))
    assert set(store.privates) == {1}
    assert session.decrypt(data).content == b"hi"


def test_the_store_round_trips_and_stays_bounded() -> None:
    """Ids only grow; at most KEEP_PRIVATE_MAX private halves are kept, oldest dropped."""
    key, device = Ed25519PrivateKey.generate(), uuid.uuid4()
    store = OneTimePrekeyStore()
    for _ in range(5):
        store.generate(key, device, 100)
    assert store.next_id == 501
    assert sorted(store.privates) == list(range(101, 501))
    assert len(store.privates) == KEEP_PRIVATE_MAX
    again = OneTimePrekeyStore.from_bytes(store.to_bytes())
    assert again.next_id == 501 and set(again.privates) == set(store.privates)
    ledger = ClaimLedger({device: 3})
    assert ClaimLedger.from_bytes(ledger.to_bytes()) == ledger


def test_the_claim_answer_is_parsed_strictly() -> None:
    """Only requested devices, each at most once; nulls mean no key left."""
    device, other = uuid.uuid4(), uuid.uuid4()
    _, prekey = make_one_time_prekey(Ed25519PrivateKey.generate(), device, 1)
    items = [
        {"device_id": str(device), "one_time_prekey": prekey.to_json()},
        {"device_id": str(other), "one_time_prekey": None},
    ]
    assert parse_claim(items, [device, other]) == {device: prekey}
    with pytest.raises(MalformedError, match=r"claim.items\[1\]: device .* was not asked for"):
        parse_claim(items, [device])
    with pytest.raises(MalformedError, match="was not asked for once"):
        parse_claim(items[:1] * 2, [device])


def test_an_unknown_prekey_type_is_a_structural_error_for_client_and_server() -> None:
    """The wrap's type byte must be 1 or 2: both parsers refuse anything else."""
    group = make_group(2)
    sender, receiver = _pair(group)
    data, _ = _seal(group, sender, receiver, None, ClaimLedger())
    header_len = 96 + 16 + 2  # one recipient, an empty label section
    forged = bytearray(data)
    forged[header_len + 4] = 3
    with pytest.raises(MalformedError, match="^wrap: unknown prekey type 3$"):
        parse_envelope(bytes(forged))
    with pytest.raises(FormatError, match="^wrap: unknown prekey type 3$"):
        server_envelope.parse_envelope(bytes(forged))


def test_the_signed_prekey_is_used_when_no_one_time_prekey_is_served() -> None:
    """An exhausted device (claim answered null) gets a wrap to its signed prekey."""
    group = make_group(2)
    sender, receiver = _pair(group)
    data, selection = _seal(group, sender, receiver, None, ClaimLedger())
    assert selection.refusals == []
    assert wrap_prekey(parse_envelope(data), receiver) == (PrekeyType.SIGNED, 1)
    store = OneTimePrekeyStore()
    assert _receiver_session(group, receiver, store).decrypt(data).content == b"hi"


def test_an_envelope_to_a_deleted_signed_prekey_fails_cleanly() -> None:
    """48 h after its replacement the old signed prekey's private half is gone: an envelope
    still sealed to it fails with KeyUnavailableError naming the prekey, and the session
    keeps opening envelopes sealed to the new one."""
    group = make_group(2)
    sender, receiver = _pair(group)
    keystore = KeystoreData(receiver, group.key_of(receiver))
    old = keystore.rotate_prekeys(T0)
    new = keystore.rotate_prekeys(T0 + 6 * DAY_MS)
    assert old is not None and new is not None
    assert keystore.delete_expired_prekeys(T0 + 8 * DAY_MS) == [old.prekey_id]
    session = GroupSession(
        roster=group.roster(),
        device_id=receiver,
        signing_key=group.key_of(receiver),
        prekeys=keystore.prekey_privates(),
    )
    sealer = group.session(sender)

    def sealed_to(prekey: SignedPrekey, text: bytes) -> bytes:
        recipient, _ = choose_prekey(
            sealer.roster,
            receiver,
            claimed=None,
            signed=prekey,
            now_ms=prekey.created_ts + 1,
            ledger=ClaimLedger(),
        )
        return sealer.encrypt_targeted(
            ContentType.MESSAGE, text, [recipient], now_ms=prekey.created_ts + 1
        )

    with pytest.raises(
        KeyUnavailableError, match=f"^prekey {old.prekey_id} is unknown or already deleted$"
    ):
        session.decrypt(sealed_to(old, b"late"))
    assert session.decrypt(sealed_to(new, b"current")).content == b"current"
