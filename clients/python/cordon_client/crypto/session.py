"""One device's sans-I/O state in one group: send, receive, hold keys (PROTOCOL.md §7)."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from cordon_client.crypto import authority
from cordon_client.crypto._encoding import decode, encode
from cordon_client.crypto.envelope import (
    ContentType,
    Kind,
    Labels,
    Recipient,
    RoutingHeader,
    broadcast_position,
    decrypt_body,
    parse_envelope,
    seal_broadcast,
    seal_targeted,
    verify_envelope,
)
from cordon_client.crypto.history import (
    DocumentKey,
    HistoryBundle,
    HistoryGrant,
    decode_document_keys,
    encode_document_keys,
)
from cordon_client.crypto.keys import SignedPrekey
from cordon_client.crypto.prekeys import (
    ClaimLedger,
    OneTimePrekeyStore,
    open_targeted_wrap,
    select_recipients,
)
from cordon_client.crypto.ratchet import ReceiverChain, SenderChain
from cordon_client.crypto.roster import Device, Roster, detect_fork, envelope_epoch_seq
from cordon_client.exceptions import (
    KeyUnavailableError,
    LogRollbackError,
    MalformedError,
    MissingChainError,
    ReplayError,
    StaleChainError,
    UntrustedSenderError,
)
from cordon_client.wire import NO_LABELS

REPLAY_CACHE_SIZE = 100_000
# One replay-cache entry as `enc(enc(device_id, message_id))` writes it: 44 bytes, of which
# these are the fixed length prefixes (u32be 40, u32be 16 before each 16-byte id).
SEEN_ENTRY = 44
SEEN_HEAD = b"\x00\x00\x00\x28\x00\x00\x00\x10"
SEEN_MID = b"\x00\x00\x00\x10"


def parse_key_request(content: bytes) -> tuple[uuid.UUID, int]:
    """KEY_REQUEST content `enc(chain_id, index)` (PROTOCOL.md §6.3), strictly."""
    fields = decode(content)
    if len(fields) != 2 or len(fields[0]) != 16 or len(fields[1]) != 8:
        raise MalformedError("key request: expected enc(chain_id, u64 index)")
    return uuid.UUID(bytes=fields[0]), int.from_bytes(fields[1], "big")


CHAINS_PER_SENDER = 4


@dataclass(frozen=True, slots=True)
class Received:
    """A verified, decrypted envelope; key-carrying content has already been installed."""

    header: RoutingHeader
    sender_member_id: uuid.UUID
    content_type: ContentType
    content: bytes
    item_key: bytes = b""  # what opened it (key ‖ nonce, or the content key): history grants


class GroupSession:
    """Holds a device's keys and the verified roster; the caller does all I/O."""

    def __init__(
        self,
        *,
        roster: Roster,
        device_id: uuid.UUID,
        signing_key: Ed25519PrivateKey,
        prekeys: Mapping[int, X25519PrivateKey] | None = None,
        one_time_prekeys: OneTimePrekeyStore | None = None,
    ) -> None:
        me = roster.device(device_id)
        if me is None:
            raise KeyUnavailableError("this device is not in the verified roster")
        self._roster = roster
        self.device_id = device_id
        self.member_id = me.member_id
        self._signing_key = signing_key
        self.prekeys: dict[int, X25519PrivateKey] = dict(prekeys or {})
        self.one_time_prekeys = one_time_prekeys  # shared by the device's sessions
        self.sender_chain: SenderChain | None = None
        self.receiver_chains: dict[tuple[uuid.UUID, uuid.UUID], ReceiverChain] = {}
        self.document_keys: dict[tuple[uuid.UUID, int], DocumentKey] = {}
        self._seen: OrderedDict[bytes, None] = OrderedDict()  # sender device ‖ message id

    def __repr__(self) -> str:
        return f"GroupSession(group={self._roster.group_id}, device={self.device_id})"

    @property
    def roster(self) -> Roster:
        """The verified roster this session trusts."""
        return self._roster

    def update_roster(self, roster: Roster) -> None:
        """Move to a newer verified roster; a fork or rollback is refused."""
        detect_fork(self._roster, roster)
        if roster.head_seq < self._roster.head_seq:
            raise LogRollbackError("the new roster is older than the one already verified")
        self._roster = roster
        self.receiver_chains = {
            k: c
            for k, c in self.receiver_chains.items()
            if roster.device(c.sender_device_id) is not None
        }

    def recipients_for(
        self,
        prekeys: Mapping[uuid.UUID, SignedPrekey],
        *,
        now_ms: int,
        devices: Iterable[uuid.UUID] | None = None,
    ) -> list[Recipient]:
        """The sender's choice (`select_recipients`, PROTOCOL §3.3) over served signed prekeys
        alone; default: every roster device but this one. A caller that names devices expects
        each one reached, so a device left out raises its exclusion."""
        wanted = (
            list(devices)
            if devices is not None
            else [d.device_id for d in self._roster.devices() if d.device_id != self.device_id]
        )
        chosen = select_recipients(
            self._roster, wanted, signed=prekeys, claimed={}, now_ms=now_ms, ledger=ClaimLedger()
        )
        if chosen.excluded:
            raise chosen.excluded[0]
        return chosen.recipients

    def _check_can_send(self) -> None:
        if self._roster.device(self.device_id) is None:
            raise UntrustedSenderError("this device has been revoked and may not send")

    def encrypt_targeted(
        self,
        content_type: ContentType,
        content: bytes,
        recipients: Sequence[Recipient],
        *,
        now_ms: int,
        message_id: uuid.UUID | None = None,
        labels: Labels = NO_LABELS,
    ) -> bytes:
        """Seal to the given roster devices only."""
        self._check_can_send()
        for r in recipients:
            if self._roster.device(r.device_id) is None:
                raise UntrustedSenderError(f"device {r.device_id} is not in the verified roster")
        return seal_targeted(
            signing_key=self._signing_key,
            sender_device_id=self.device_id,
            group_id=self._roster.group_id,
            epoch_id=self._roster.epoch_id,
            content_type=content_type,
            content=content,
            recipients=recipients,
            ts=now_ms,
            message_id=message_id,
            labels=labels,
        )

    def needs_rotation(self, now_ms: int) -> bool:
        """True if a new sender chain must be distributed before the next broadcast."""
        if self.sender_chain is None:
            return True
        last_removal = max(self._roster.removal_seqs, default=0)
        return self.sender_chain.needs_rotation(now_ms=now_ms, last_removal_seq=last_removal)

    def start_sender_chain(self, *, now_ms: int) -> None:
        """Start a new chain held by no other device yet: a sender alone in the group (its
        devices and members that join later get it with the next send, PROTOCOL §6)."""
        self._check_can_send()
        self.sender_chain = SenderChain.new(self.device_id, now_ms, self._roster.head_seq)

    def rotate_sender_chain(self, recipients: Sequence[Recipient], *, now_ms: int) -> bytes:
        """Start a new chain and return the SENDER_KEY envelope that distributes it."""
        self._check_can_send()
        chain = SenderChain.new(self.device_id, now_ms, self._roster.head_seq)
        envelope = self.encrypt_targeted(
            ContentType.SENDER_KEY, chain.distribution(), recipients, now_ms=now_ms
        )
        self.sender_chain = chain
        return envelope

    def encrypt_broadcast(
        self,
        content_type: ContentType,
        content: bytes,
        *,
        now_ms: int,
        message_id: uuid.UUID | None = None,
        labels: Labels = NO_LABELS,
    ) -> bytes:
        """Encrypt to the whole group on the current chain; refuses if rotation is due."""
        self._check_can_send()
        if self.sender_chain is None or self.needs_rotation(now_ms):
            raise StaleChainError("rotate the sender chain before broadcasting")
        return seal_broadcast(
            signing_key=self._signing_key,
            sender_device_id=self.device_id,
            group_id=self._roster.group_id,
            epoch_id=self._roster.epoch_id,
            content_type=content_type,
            content=content,
            chain=self.sender_chain,
            ts=now_ms,
            message_id=message_id,
            labels=labels,
        )

    def _check_coordinator(self, what: str) -> None:
        me = self._roster.members.get(self.member_id)
        if me is None or me.role != authority.COORDINATOR:
            raise UntrustedSenderError(f"only a coordinator's device may send {what}")

    def share_document_key(
        self, key: DocumentKey, recipients: Sequence[Recipient], *, now_ms: int
    ) -> bytes:
        """Wrap a document key to roster devices (coordinators only: PROTOCOL.md §8)."""
        self._check_coordinator("a document key")
        return self.encrypt_targeted(
            ContentType.DOCUMENT_KEY, key.to_bytes(), recipients, now_ms=now_ms
        )

    def grant_library(
        self,
        member_id: uuid.UUID,
        keys: list[DocumentKey],
        recipients: Sequence[Recipient],
        *,
        now_ms: int,
    ) -> bytes:
        """Send earlier document keys to a member whose grant_history is in the log."""
        me, member = self._roster.members.get(self.member_id), self._roster.members.get(member_id)
        if me is None or me.role != "coordinator":
            raise UntrustedSenderError("only a coordinator's device may send a library grant")
        if member is None or "library" not in member.history_scopes:
            raise UntrustedSenderError("the log holds no library grant for this member")
        if any(r.device_id not in member.devices for r in recipients):
            raise UntrustedSenderError("library grants go only to the granted member's devices")
        return self.encrypt_targeted(
            ContentType.LIBRARY_GRANT, encode_document_keys(keys), recipients, now_ms=now_ms
        )

    def grant_history(
        self, grant: HistoryGrant, recipients: Sequence[Recipient], *, now_ms: int
    ) -> bytes:
        """Seal a HISTORY_GRANT to the granted member's devices once the log holds the grant."""
        self._check_coordinator("a history grant")
        member = self._roster.members.get(grant.member_id)
        if member is None or grant.scope not in member.history_scopes:
            raise UntrustedSenderError(f"the log holds no {grant.scope} grant for this member")
        if any(r.device_id not in member.devices for r in recipients):
            raise UntrustedSenderError("history grants go only to the granted member's devices")
        return self.encrypt_targeted(
            ContentType.HISTORY_GRANT, grant.to_bytes(), recipients, now_ms=now_ms
        )

    def export_history(self, archive: bytes = b"") -> HistoryBundle:
        """Collect chain states and document keys for one of this member's new devices."""
        return HistoryBundle(
            list(self.receiver_chains.values()), list(self.document_keys.values()), archive
        )

    def transfer_history(
        self, bundle: HistoryBundle, recipient: Recipient, *, now_ms: int
    ) -> bytes:
        """Seal a history bundle to another device of this same member, and to nobody else."""
        dev = self._roster.device(recipient.device_id)
        if dev is None or dev.member_id != self.member_id or dev.device_id == self.device_id:
            raise UntrustedSenderError("history goes only to another device of the same member")
        return self.encrypt_targeted(
            ContentType.HISTORY_TRANSFER, bundle.to_bytes(), [recipient], now_ms=now_ms
        )

    def export_state(self) -> bytes:
        """This session's secret state (chains, document keys, replay cache) for the keystore.

        The replay cache (up to 100,000 ids) keeps the format `enc(enc(device, message), …)`
        but is written with one join and read with one slice per entry (`_seen_field`,
        `_seen_keys`), since every process that opens the session restores it and every save
        writes it."""
        return encode(
            self.sender_chain.to_bytes() if self.sender_chain else b"",
            encode(*(c.to_bytes() for c in self.receiver_chains.values())),
            encode_document_keys(list(self.document_keys.values())),
            _seen_field(self._seen),
        )

    def restore_state(self, data: bytes) -> None:
        """Load what `export_state` wrote; chains of devices no longer in the roster are dropped."""
        fields = decode(data)
        if len(fields) != 4:
            raise MalformedError("session state is malformed")
        sender, receivers, documents, seen = fields
        self.sender_chain = SenderChain.from_bytes(sender) if sender else None
        self.receiver_chains = {}
        for raw in decode(receivers):
            chain = ReceiverChain.from_bytes(raw)
            if self._roster.device(chain.sender_device_id) is not None:
                self.receiver_chains[(chain.sender_device_id, chain.chain_id)] = chain
        self.document_keys = {
            (k.document_id, k.version): k for k in decode_document_keys(documents)
        }
        self._seen = OrderedDict.fromkeys(_seen_keys(seen))

    def _check_roster(self, h: RoutingHeader) -> tuple[Device, int]:
        """Step 1: group, epoch, sender device and per-type sender policy."""
        if h.group_id != self._roster.group_id:
            raise UntrustedSenderError("envelope is for another group")
        epoch_seq = envelope_epoch_seq(self._roster, h.epoch_id)
        sender = self._roster.device(h.sender_device_id)
        if sender is None:
            raise UntrustedSenderError("sender device is not in the verified roster")
        if sender.device_id == self.device_id:
            raise ReplayError("envelope was sent by this device")
        if h.content_type == ContentType.LIBRARY_GRANT:
            role = self._roster.members[sender.member_id].role
            mine = self._roster.members[self.member_id].history_scopes
            if role != "coordinator" or "library" not in mine:
                raise UntrustedSenderError("library grant without a coordinator and a logged grant")
        if h.content_type in (ContentType.DOCUMENT_KEY, ContentType.LIBRARY_GRANT):
            authority.coordinator_device_at(
                self._roster, sender.device_id, h.epoch_id, what="document key"
            )
        if h.content_type == ContentType.HISTORY_GRANT:
            authority.check_grant_sender(self._roster, sender, self.member_id)
        if h.content_type == ContentType.HISTORY_TRANSFER and sender.member_id != self.member_id:
            raise UntrustedSenderError("history transfer from a device of another member")
        if h.kind == Kind.TARGETED and self.device_id not in h.recipients:
            raise KeyUnavailableError("this device is not a recipient of the envelope")
        return sender, epoch_seq

    def decrypt(self, data: bytes) -> Received:
        """Check roster, signature, replay, then open and decrypt; state changes only on success."""
        env = parse_envelope(data)
        h = env.header
        sender, epoch_seq = self._check_roster(h)
        verify_envelope(env, sender.signing_key)
        seen_key = h.sender_device_id.bytes + h.message_id.bytes
        if seen_key in self._seen:
            raise ReplayError("duplicate message id from this device")
        if h.kind == Kind.BROADCAST:
            chain_id, index = broadcast_position(env)
            chain = self.receiver_chains.get((sender.device_id, chain_id))
            if chain is None:
                raise MissingChainError(
                    f"no sender key for chain {chain_id} of device {sender.device_id}",
                    sender.device_id,
                    chain_id,
                    index,
                )
            if self._roster.removed_between(chain.epoch_seq, epoch_seq):
                raise StaleChainError("broadcast on a chain created before a removal")
            pending = chain.derive(index)
            content = decrypt_body(env, pending.key, pending.nonce)
            chain.commit(pending)
            item_key = pending.key + pending.nonce
        else:
            item_key, one_time_id = open_targeted_wrap(
                env, self.device_id, self.prekeys, self.one_time_prekeys
            )
            content = decrypt_body(env, item_key)
            self._accept_keys(h, sender, epoch_seq, content)
            if one_time_id is not None and self.one_time_prekeys is not None:
                self.one_time_prekeys.consume(one_time_id)  # one-time: deleted after first use
        self._seen[seen_key] = None
        if len(self._seen) > REPLAY_CACHE_SIZE:
            self._seen.popitem(last=False)
        return Received(h, sender.member_id, ContentType(h.content_type), content, item_key)

    def _accept_keys(
        self, h: RoutingHeader, sender: Device, epoch_seq: int, content: bytes
    ) -> None:
        """Install key material from a verified targeted message (parse fully, then mutate)."""
        ctype = h.content_type
        if ctype == ContentType.SENDER_KEY:
            chain = ReceiverChain.from_distribution(content, sender.device_id, epoch_seq)
            self._install_chain(chain)
        elif ctype in (ContentType.DOCUMENT_KEY, ContentType.LIBRARY_GRANT):
            keys = (
                [DocumentKey.from_bytes(content)]
                if ctype == ContentType.DOCUMENT_KEY
                else decode_document_keys(content)
            )
            authority.check_new_keys(self.document_keys, keys)
            for key in keys:
                self.document_keys[(key.document_id, key.version)] = key
        elif ctype == ContentType.KEY_REQUEST:
            parse_key_request(content)
        elif ctype == ContentType.HISTORY_GRANT:
            authority.check_grant(self._roster, HistoryGrant.from_bytes(content), self.member_id)
        elif ctype == ContentType.HISTORY_TRANSFER:
            bundle = HistoryBundle.from_bytes(content)
            for chain in bundle.chains:
                if self._roster.device(chain.sender_device_id) is not None:
                    self.receiver_chains.setdefault((chain.sender_device_id, chain.chain_id), chain)
            for key in bundle.document_keys:
                self.document_keys[(key.document_id, key.version)] = key

    def request_chain(
        self, chain_id: uuid.UUID, index: int, owner: Recipient, *, now_ms: int
    ) -> bytes:
        """KEY_REQUEST to the chain's owner device only: 'send me chain_id from index'."""
        return self.encrypt_targeted(
            ContentType.KEY_REQUEST, encode(chain_id, index), [owner], now_ms=now_ms
        )

    def answer_key_request(
        self, requester: Recipient, chain_id: uuid.UUID, index: int, *, now_ms: int
    ) -> bytes | None:
        """Re-share this device's chain to the requesting roster device only, from `index` if
        that key is still held; None when it is not (the caller then starts a fresh chain)."""
        dev = self._roster.device(requester.device_id)
        if dev is None or dev.device_id == self.device_id:
            raise UntrustedSenderError(
                f"key request from device {requester.device_id}, not in the verified roster"
            )
        chain = self.sender_chain
        if chain is None or chain.chain_id != chain_id or self.needs_rotation(now_ms):
            return None
        content = chain.share_from(index)
        if content is None:
            return None
        return self.encrypt_targeted(ContentType.SENDER_KEY, content, [requester], now_ms=now_ms)

    def _install_chain(self, chain: ReceiverChain) -> None:
        """Keep a few recent chains per sender so in-flight broadcasts still open."""
        slot = (chain.sender_device_id, chain.chain_id)
        if slot in self.receiver_chains:
            raise ReplayError("this sender chain was already installed")
        self.receiver_chains[slot] = chain
        mine = sorted(
            (
                c
                for c in self.receiver_chains.values()
                if c.sender_device_id == chain.sender_device_id
            ),
            key=lambda c: (c.epoch_seq, c.created_ts),
        )
        for old in mine[:-CHAINS_PER_SENDER]:
            del self.receiver_chains[(old.sender_device_id, old.chain_id)]


def _seen_field(seen: Iterable[bytes]) -> bytes:
    """The replay cache (keys: device id ‖ message id) as `enc(*(enc(dev, mid) …))`."""
    return b"".join(SEEN_HEAD + key[:16] + SEEN_MID + key[16:] for key in seen)


def _seen_keys(field: bytes) -> list[bytes]:
    """The keys `_seen_field` wrote; any other layout (which `enc` of two 16-byte ids never
    produces) is refused."""
    starts = range(0, len(field), SEEN_ENTRY)
    if len(field) % SEEN_ENTRY or not all(
        field[i : i + 8] == SEEN_HEAD and field[i + 24 : i + 28] == SEEN_MID for i in starts
    ):
        raise MalformedError("session state is malformed")
    return [field[i + 8 : i + 24] + field[i + 28 : i + 44] for i in starts]
