/**
 * The pre-notification workflow as a client sees it (docs/workflows.md), as the Python SDK's
 * `records/workflow.py`: the state machine (who may move a pre-notification from which status
 * to which), the overdue rule, and the signed status event. The server enforces the same table
 * (`app/prenotifications/workflow.py`); the client uses it to offer only the moves the server
 * will accept and to check the history it is shown. No UI imports.
 */
import { eventSigningInput, sign, type SigningKey, type StatusEvent } from "../crypto";

export const SENDER = "sender";
export const DESTINATION = "destination";
export const COORDINATOR = "coordinator";
export type Capacity = typeof SENDER | typeof DESTINATION | typeof COORDINATOR;

export const STATUSES = ["sent", "acknowledged", "arrived", "cleared", "closed", "amended", "cancelled", "discrepancy"] as const;
export type Status = (typeof STATUSES)[number];
export const TERMINAL: ReadonlySet<Status> = new Set(["closed", "cancelled"]);

/** `from → to` and the capacities allowed to make that move. */
export const TRANSITIONS: ReadonlyArray<readonly [Status, Status, ReadonlySet<Capacity>]> = [
  ["sent", "acknowledged", new Set([DESTINATION])],
  ["amended", "acknowledged", new Set([DESTINATION])],
  ["acknowledged", "arrived", new Set([DESTINATION])],
  ["arrived", "cleared", new Set([DESTINATION])],
  ["discrepancy", "cleared", new Set([DESTINATION])],
  ["acknowledged", "discrepancy", new Set([DESTINATION])],
  ["arrived", "discrepancy", new Set([DESTINATION])],
  ["sent", "amended", new Set([SENDER])],
  ["acknowledged", "amended", new Set([SENDER])],
  ["amended", "amended", new Set([SENDER])],
  ["sent", "cancelled", new Set([SENDER])],
  ["acknowledged", "cancelled", new Set([SENDER])],
  ["amended", "cancelled", new Set([SENDER])],
  ["cleared", "closed", new Set([SENDER, COORDINATOR])],
  ["discrepancy", "closed", new Set([SENDER, COORDINATOR])],
];

/** Moves that carry an encrypted detail: the new version, or the findings. */
export const DETAIL_REQUIRED: ReadonlySet<Status> = new Set(["amended", "discrepancy"]);
export const DISCREPANCY_KINDS = ["quantity", "temperature", "suspected_falsification"] as const;
export type DiscrepancyKind = (typeof DISCREPANCY_KINDS)[number];
export const AWAITING_ACK: ReadonlySet<string> = new Set(["sent", "amended"]);

export const isStatus = (value: unknown): value is Status => typeof value === "string" && (STATUSES as readonly string[]).includes(value);

/** The statuses a user acting in these capacities may move a pre-notification to (sorted). */
export function allowedMoves(status: string, capacities: Iterable<Capacity>): Status[] {
  const held = new Set(capacities);
  return TRANSITIONS.filter(([from, , who]) => from === status && [...who].some((c) => held.has(c)))
    .map(([, to]) => to)
    .sort();
}

/** The decrypted ETA (`transport.eta`, ISO 8601 with an offset), or null. */
export function eta(data: Readonly<Record<string, unknown>>): Date | null {
  const transport = data.transport as Record<string, unknown> | undefined;
  const raw = transport?.eta;
  if (typeof raw !== "string") return null;
  const when = new Date(raw);
  return Number.isNaN(when.getTime()) ? null : when;
}

/** Overdue: still awaiting acknowledgement and its ETA has passed. */
export function isOverdue(status: string, data: Readonly<Record<string, unknown>>, now: Date): boolean {
  const when = eta(data);
  return AWAITING_ACK.has(status) && when !== null && when.getTime() <= now.getTime();
}

/** Sign one status transition with the acting device's key (PROTOCOL §12). */
export function signEvent(key: SigningKey, event: StatusEvent): Promise<Uint8Array> {
  return sign(key, eventSigningInput(event));
}
