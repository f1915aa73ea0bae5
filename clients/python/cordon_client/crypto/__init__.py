"""Cordon's end-to-end encryption protocol, pure and sans-I/O (normative spec: docs/PROTOCOL.md)."""

import cordon_client.crypto._requirements  # noqa: F401  (first: fails early on an old cryptography)
from cordon_client.crypto._encoding import label
from cordon_client.crypto.envelope import (
    ContentType,
    Envelope,
    Kind,
    Recipient,
    RoutingHeader,
    parse_envelope,
    parse_routing_header,
    seal_broadcast,
    seal_targeted,
)
from cordon_client.crypto.history import DocumentKey, HistoryBundle
from cordon_client.crypto.keys import (
    SignedPrekey,
    fingerprint,
    make_prekey,
    new_signing_key,
    parse_qr_payload,
    public_bytes,
    qr_payload,
    root_matches_qr,
    signing_key_from_seed,
    verify_prekey,
)
from cordon_client.crypto.keystore import (
    KeystoreData,
    PrekeySecret,
    load_keystore,
    save_keystore,
)
from cordon_client.crypto.log import LogEntry, LogWriter, sign_entry
from cordon_client.crypto.ratchet import ReceiverChain, SenderChain
from cordon_client.crypto.roster import (
    Device,
    Member,
    Roster,
    detect_fork,
    verify_fork_proof,
    verify_log,
)
from cordon_client.crypto.session import GroupSession, Received
from cordon_client.crypto.stream import (
    Manifest,
    StreamDecryptor,
    StreamEncryptor,
    create_manifest,
    decrypt_document,
    decrypt_metadata,
    encrypt_document,
    new_document_key,
    verify_manifest,
)

__all__ = [
    "ContentType",
    "Device",
    "DocumentKey",
    "Envelope",
    "GroupSession",
    "HistoryBundle",
    "KeystoreData",
    "Kind",
    "LogEntry",
    "LogWriter",
    "Manifest",
    "Member",
    "PrekeySecret",
    "Received",
    "ReceiverChain",
    "Recipient",
    "Roster",
    "RoutingHeader",
    "SenderChain",
    "SignedPrekey",
    "StreamDecryptor",
    "StreamEncryptor",
    "create_manifest",
    "decrypt_document",
    "decrypt_metadata",
    "detect_fork",
    "encrypt_document",
    "fingerprint",
    "label",
    "load_keystore",
    "make_prekey",
    "new_document_key",
    "new_signing_key",
    "parse_envelope",
    "parse_qr_payload",
    "parse_routing_header",
    "public_bytes",
    "qr_payload",
    "root_matches_qr",
    "save_keystore",
    "seal_broadcast",
    "seal_targeted",
    "sign_entry",
    "signing_key_from_seed",
    "verify_fork_proof",
    "verify_log",
    "verify_manifest",
    "verify_prekey",
]
