/** src/protocol/items: /sync items (§5.6) and the routing-copy checks (§7 step 2). */

import { describe, expect, it } from "vitest";
import { b64StdEncode } from "../../src/crypto";
import { checkedEnvelope, parseStreamItem } from "../../src/protocol";
import { type Any, H, refused, vectors } from "./helpers";

const V = vectors("envelope_v2.json");
const alert = V.envelopes.find((v: Any) => v.name === "alert-targeted");

function item(overrides: Record<string, unknown> = {}) {
  const env = H(alert.envelope);
  return {
    group_id: V.group_id,
    seq: 12,
    kind: "alert",
    sender_user_id: null,
    sender_device_id: "00000000-0000-4000-8000-000000000998",
    recipients: null,
    client_msg_id: null,
    parent_seq: null,
    urgent: true,
    created_at: "2026-12-03T10:00:00Z",
    envelope: b64StdEncode(env),
    ...overrides,
  };
}

describe("stream items", () => {
  it("an item whose copy matches its envelope passes; each disagreement is refused by name", async () => {
    const { parseEnvelope } = await import("../../src/crypto");
    const h = parseEnvelope(H(alert.envelope)).header;
    const good = parseStreamItem(item({ client_msg_id: h.messageId, sender_device_id: h.senderDeviceId }));
    expect(checkedEnvelope(good, null).header.messageId).toBe(h.messageId);
    await refused(() => checkedEnvelope(parseStreamItem(item({ sender_device_id: h.senderDeviceId, client_msg_id: "00000000-0000-4000-8000-000000000999" })), null), "RoutingMismatchError", "routing copy of seq 12: client_msg_id is not the envelope's message id");
    await refused(() => checkedEnvelope(parseStreamItem(item({ client_msg_id: h.messageId })), null), "RoutingMismatchError", "routing copy of seq 12: sender_device_id is not the envelope's sender");
    await refused(() => checkedEnvelope(parseStreamItem(item({ client_msg_id: h.messageId, sender_device_id: h.senderDeviceId, urgent: false })), null), "RoutingMismatchError", "routing copy of seq 12: urgent: False but the envelope is signed urgent=True");
    await refused(() => checkedEnvelope(parseStreamItem(item({ client_msg_id: h.messageId, sender_device_id: h.senderDeviceId, kind: "chat" })), null), "RoutingMismatchError", "routing copy of seq 12: kind: 'chat' but the envelope is signed as alert");
  });

  it("refuses a malformed item before any crypto", async () => {
    await refused(() => parseStreamItem({ ...item(), extra: 1 }), "MalformedError");
    await refused(() => parseStreamItem(item({ seq: -1 })), "MalformedError", "stream item: seq must be a non-negative integer");
    await refused(() => parseStreamItem(item({ sender_device_id: "NOT-A-UUID" })), "MalformedError", "stream item seq 12: ids must be canonical UUIDs");
    await refused(() => parseStreamItem(item({ kind: "gossip" })), "MalformedError", "stream item seq 12: unknown kind");
  });
});
