/**
 * In a group's roster, for a coordinator: the member's certified devices, each with a revoke
 * button behind a plain-language confirmation (`revoke_device` signed with the coordinator
 * key, in this group's log: `revoke.ts`).
 */
import { useState } from "preact/hooks";
import { ErrorLine } from "../app/ui";
import type { SigningKey } from "../crypto";
import { vault } from "../feed/unlock";
import type { Described } from "../i18n";
import { Confirm } from "./Confirm";
import { describeTrust } from "./describe";
import { m } from "./messages";
import { revokeMemberDevice } from "./revoke";
import "./devices.css";

export function MemberDevices({ groupId, signer, memberId, name, devices, onChanged }: { groupId: string; signer: SigningKey; memberId: string; name: string; devices: string[]; onChanged: () => Promise<void> }) {
  const [asking, setAsking] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Described | null>(null);
  const mine = vault.value?.deviceId;
  async function revoke(deviceId: string) {
    setBusy(true);
    setError(null);
    try {
      await revokeMemberDevice(vault.value!, groupId, signer, memberId, deviceId);
      setAsking(null);
      await onChanged();
    } catch (failure) {
      setError(describeTrust(failure));
    } finally {
      setBusy(false);
    }
  }
  return (
    <>
      <ErrorLine error={error} />
      <ul class="member-devices" aria-label={m("member_devices", { name })}>
        {devices.map((d) => {
          const short = d.slice(0, 8);
          return (
            <li key={d} data-device={d}>
              <code dir="ltr">{short}</code>{" "}
              {d !== mine && (
                <button type="button" class="secondary" disabled={busy} aria-label={m("revoke_member_device", { device: short, name })} onClick={() => setAsking(d)}>
                  {m("revoke")}
                </button>
              )}
              {asking === d && (
                <Confirm id={`revoke-${d}`} title={m("confirm_member_title", { device: short, name })} body={m("confirm_member_body")} confirm={m("confirm_yes")} cancel={m("confirm_no")} busy={busy} onConfirm={() => void revoke(d)} onCancel={() => setAsking(null)} />
              )}
            </li>
          );
        })}
      </ul>
    </>
  );
}
