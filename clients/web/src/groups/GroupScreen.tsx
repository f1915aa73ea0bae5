/**
 * One group (route `/groups/:id`): status and role, the group key to verify, the roster from
 * the verified signed log labelled with organisations and countries, and for a coordinator
 * holding a coordinator key: status, invitations, admissions, roles, removals and template
 * versions, each signed on top of the log this device verified (`admin.ts`). A log that fails
 * verification is a blocking warning and nothing of the group is shown.
 */
import { useEffect, useState } from "preact/hooks";
import { useRoute } from "preact-iso";
import { ErrorLine, Field, Notice, ScreenTitle } from "../app/ui";
import { session } from "../auth/session";
import { CryptoError, type Roster, type SigningKey } from "../crypto";
import { describeTrust } from "../devices/describe";
import { m as dm } from "../devices/messages";
import { AdmitByNumber } from "../devices/AdmitByNumber";
import { MemberDevices } from "../devices/MemberDevices";
import { Qr } from "../devices/Qr";
import { PinGroupKey, VerifyGroupKey } from "../devices/Verify";
import { certifySelf, frozenBy, type GroupSummary, isPinned, isTransient, listGroups, verifiedHead, roster as verifiedRoster } from "../feed/engine";
import { KeystoreGate, vault } from "../feed/unlock";
import { type Described, language } from "../i18n";
import { admit, coordinatorSigner, invite, type JoinRequest, joinRequests, LOG_ROLES, logOpened, NEXT_STATUS, openLog, type PublishedTemplate, publishTemplate, removeMember, setRole, setStatus, templates } from "./admin";
import { countryName, type DirectoryEntry, fetchDirectory } from "./directory";
import { roleLabel, statusLabel } from "./GroupsScreen";
import { HistoryGrantCard } from "./HistoryGrant";
import { g } from "./messages";
import { ResolveFork, TrustRefused } from "./TrustRefused";
import "./groups.css";

type Stage = { kind: "loading" } | { kind: "not_opened"; coordinator: boolean; canOpen: boolean } | { kind: "not_pinned" } | { kind: "refused"; error: Described } | { kind: "ready"; roster: Roster; signer: SigningKey | null };

/** Run an action with busy state and a one-line error; `after` reloads what it changed. */
function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Described | null>(null);
  async function run(action: () => Promise<void>) {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (failure) {
      setError(describeTrust(failure));
    } finally {
      setBusy(false);
    }
  }
  return { busy, error, run };
}

function RosterTable({ group, roster, signer, onChanged }: { group: GroupSummary; roster: Roster; signer: SigningKey | null; onChanged: () => Promise<void> }) {
  const me = session.value!.user.id;
  const [names, setNames] = useState<Map<string, DirectoryEntry>>(new Map());
  const [roles, setRoles] = useState<Record<string, string>>({});
  const { busy, error, run } = useAction();
  useEffect(() => {
    let live = true;
    void fetchDirectory(group.id, roster.members.keys()).then((found) => live && setNames(found));
    return () => {
      live = false;
    };
  }, [group.id, roster]);
  const label = (id: string) => {
    const n = names.get(id);
    return n?.displayName ?? n?.username ?? id;
  };
  return (
    <section aria-labelledby="roster-title">
      <h2 id="roster-title">{g("roster_title")}</h2>
      <p class="hint">{g("roster_hint")}</p>
      <ErrorLine error={error} />
      <div class="table-wrap">
        <table class="roster stack" aria-labelledby="roster-title">
          <thead>
            <tr>
              <th scope="col">{g("col_member")}</th>
              <th scope="col">{g("col_org")}</th>
              <th scope="col">{g("col_country")}</th>
              <th scope="col">{g("col_member_role")}</th>
              <th scope="col">{g("col_devices")}</th>
              {signer && <th scope="col">{g("col_actions")}</th>}
            </tr>
          </thead>
          <tbody>
            {[...roster.members.values()].map((member) => {
              const name = label(member.memberId);
              const entry = names.get(member.memberId);
              const chosen = roles[member.memberId] ?? member.role;
              return (
                <tr key={member.memberId} data-member={member.memberId} data-role={member.role}>
                  <td dir="auto" title={member.memberId} data-label={g("col_member")}>
                    {member.memberId === me ? g("you") : name}
                  </td>
                  <td dir="auto" data-label={g("col_org")}>
                    {entry?.organisation ?? ""}
                  </td>
                  <td data-label={g("col_country")}>{countryName(entry?.country ?? null, language.value)}</td>
                  <td data-label={g("col_member_role")}>{roleLabel(member.role)}</td>
                  <td data-label={g("col_devices")}>
                    {signer && member.devices.size > 0 ? <MemberDevices groupId={group.id} signer={signer} memberId={member.memberId} name={member.memberId === me ? g("you") : name} devices={[...member.devices.keys()]} onChanged={onChanged} /> : member.devices.size}
                  </td>
                  {signer && (
                    <td data-label={g("col_actions")}>
                      {member.memberId !== me && (
                        <div class="row-actions">
                          <select aria-label={g("role_for", { name })} value={chosen} onChange={(e) => setRoles({ ...roles, [member.memberId]: (e.currentTarget as HTMLSelectElement).value })}>
                            {LOG_ROLES.map((r) => (
                              <option key={r} value={r}>
                                {roleLabel(r)}
                              </option>
                            ))}
                          </select>
                          <button type="button" class="secondary" disabled={busy || chosen === member.role} onClick={() => void run(async () => (await setRole(vault.value!, group.id, me, member.memberId, chosen as (typeof LOG_ROLES)[number]), await onChanged()))}>
                            {g("set_role")}
                          </button>
                          <button type="button" class="danger" disabled={busy} aria-label={g("remove", { name })} onClick={() => void run(async () => (await removeMember(vault.value!, group.id, me, member.memberId), await onChanged()))}>
                            {g("remove_short")}
                          </button>
                        </div>
                      )}
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Manage({ group, onChanged }: { group: GroupSummary; onChanged: () => Promise<void> }) {
  const me = session.value!.user.id;
  const next = NEXT_STATUS[group.status] ?? [];
  const [status, setStatusChoice] = useState(next[0] ?? "");
  const [forUser, setForUser] = useState("");
  const [invitation, setInvitation] = useState<string | null>(null);
  const [requests, setRequests] = useState<JoinRequest[] | null>(null);
  const [template, setTemplate] = useState("");
  const [published, setPublished] = useState<string | null>(null);
  const [versions, setVersions] = useState<PublishedTemplate[]>([]);
  const { busy, error, run } = useAction();
  const loadRequests = () => run(async () => setRequests(await joinRequests(group.id)));
  const loadTemplates = () => templates(group.id).then((list) => setVersions(list.items), () => undefined);
  useEffect(() => {
    void loadRequests();
    void loadTemplates();
  }, [group.id]);
  return (
    <section class="manage" aria-labelledby="manage-title">
      <h2 id="manage-title">{g("manage_title")}</h2>
      <ErrorLine error={error} />
      {next.length > 0 && (
        <form class="card" onSubmit={(e) => (e.preventDefault(), void run(async () => (await setStatus(group.id, status), await onChanged())))}>
          <label for="group-status">{g("status_label")}</label>
          <select id="group-status" value={status} onChange={(e) => setStatusChoice((e.currentTarget as HTMLSelectElement).value)}>
            {next.map((s) => (
              <option key={s} value={s}>
                {statusLabel(s)}
              </option>
            ))}
          </select>
          <button type="submit" disabled={busy}>
            {g("status_submit")}
          </button>
        </form>
      )}
      <form class="card" onSubmit={(e) => (e.preventDefault(), void run(async () => setInvitation(await invite(vault.value!, group.id, forUser.trim() || null))))}>
        <h3>{g("invite_title")}</h3>
        <p>{g("invite_hint")}</p>
        <Field name="invite-for" label={g("invite_for")} value={forUser} onInput={setForUser} dir="ltr" />
        <button type="submit" disabled={busy}>
          {g("invite_submit")}
        </button>
        {invitation && (
          <div>
            <p>
              {g("invitation")}:{" "}
              <code class="code" dir="ltr" data-testid="invitation">
                {invitation}
              </code>
            </p>
            <Qr payload={invitation} label={g("invitation_qr")} />
          </div>
        )}
      </form>
      <div class="card">
        <h3>{g("requests_title")}</h3>
        {requests && requests.length === 0 && <p>{g("requests_none")}</p>}
        <ul class="requests">
          {requests?.map((r) => (
            <li key={r.invitation_id} data-user={r.user_id}>
              <span dir="auto">{r.username}</span>
              <button type="button" disabled={busy} onClick={() => void run(async () => (await admit(vault.value!, group.id, me, r), setRequests(await joinRequests(group.id)), await onChanged()))}>
                {g("admit", { name: r.username })}
              </button>
            </li>
          ))}
        </ul>
        <button type="button" class="secondary" disabled={busy} onClick={() => void loadRequests()}>
          {g("requests_refresh")}
        </button>
      </div>
      <AdmitByNumber groupId={group.id} onChanged={onChanged} />
      <form
        class="card"
        onSubmit={(e) => {
          e.preventDefault();
          void run(async () => {
            let done;
            try {
              done = await publishTemplate(vault.value!, group.id, template);
            } catch (failure) {
              if (failure instanceof SyntaxError || failure instanceof TypeError) throw new Error(g("template_invalid"));
              throw failure;
            }
            setPublished(g("template_published", { id: done.id, version: String(done.version) }));
            setTemplate("");
            await loadTemplates();
          });
        }}
      >
        <h3>{g("templates_title")}</h3>
        <p>{g("templates_hint")}</p>
        <label for="template-json">{g("template_json")}</label>
        <textarea id="template-json" dir="ltr" value={template} spellcheck={false} onInput={(e) => setTemplate((e.currentTarget as HTMLTextAreaElement).value)} />
        <button type="submit" disabled={busy || !template.trim()}>
          {g("template_submit")}
        </button>
        {published && <p role="status">{published}</p>}
        {versions.length > 0 && (
          <>
            <h4>{g("templates_list")}</h4>
            <ul>
              {versions.map((v) => (
                <li key={`${v.template_id}/${v.version}`} dir="ltr">
                  {v.template_id} v{v.version}
                </li>
              ))}
            </ul>
          </>
        )}
      </form>
    </section>
  );
}

/** The head this device verified, as a member with a frozen group asks the coordinator for it. */
function LogHead({ groupId }: { groupId: string }) {
  const head = verifiedHead(vault.value!, groupId);
  return head && <p data-testid="log-head">{g("log_head", { seq: String(head.seq), epoch: head.epoch })}</p>;
}

function GroupView({ id }: { id: string }) {
  const v = vault.value!;
  const me = session.value!.user.id;
  const [group, setGroup] = useState<GroupSummary | null>(null);
  const [stage, setStage] = useState<Stage>({ kind: "loading" });
  const [error, setError] = useState<Described | null>(null);
  const [resolved, setResolved] = useState<number | null>(null);
  const opening = useAction();

  async function load() {
    setError(null);
    try {
      const found = (await listGroups()).find((x) => x.id === id) ?? null;
      setGroup(found);
      if (!found) return;
      if (!isPinned(v, id)) {
        const opened = await logOpened(id);
        setStage(opened ? { kind: "not_pinned" } : { kind: "not_opened", coordinator: found.my_role === "coordinator", canOpen: found.my_role === "coordinator" && v.data.memberKey !== null });
        return;
      }
      try {
        if (v.data.memberKey) await certifySelf(v, id, me);
        const verified = await verifiedRoster(v, id);
        setStage({ kind: "ready", roster: verified, signer: await coordinatorSigner(v, verified, me) });
      } catch (failure) {
        if (failure instanceof CryptoError && !isTransient(failure)) setStage({ kind: "refused", error: describeTrust(failure) });
        else throw failure;
      }
    } catch (failure) {
      setError(describeTrust(failure));
    }
  }
  useEffect(() => void load(), [id]);

  return (
    <>
      <ScreenTitle>{group?.name ?? g("title")}</ScreenTitle>
      <p>
        <a href="/">{g("back")}</a>
      </p>
      {group && <p data-testid="group-status">{g("status_line", { status: statusLabel(group.status), role: roleLabel(group.my_role) })}</p>}
      <ErrorLine error={error} />
      {resolved !== null && <p role="status">{g("resolved", { seq: String(resolved) })}</p>}
      {stage.kind === "refused" && (
        <>
          <TrustRefused error={stage.error} />
          {frozenBy(v, id) && <ResolveFork vault={v} groupId={id} onResolved={(seq) => (setResolved(seq), void load())} />}
        </>
      )}
      {stage.kind === "not_opened" && (
        <>
          <Notice>{g(stage.coordinator && !stage.canOpen ? "not_opened_elsewhere" : "not_opened")}</Notice>
          {stage.canOpen && (
            <div class="card">
              <h2>{g("open_log_title")}</h2>
              <p>{g("open_log_hint")}</p>
              <ErrorLine error={opening.error} />
              <button type="button" disabled={opening.busy} onClick={() => void opening.run(async () => (await openLog(v, id, me), await load()))}>
                {g("open_log_submit")}
              </button>
            </div>
          )}
        </>
      )}
      {stage.kind === "not_pinned" && (
        <>
          <Notice>{g("not_pinned")}</Notice>
          <PinGroupKey groupId={id} onPinned={() => void load()} />
        </>
      )}
      {stage.kind === "ready" && group && (
        <>
          {!stage.roster.device(v.deviceId) && <Notice>{dm("not_certified")}</Notice>}
          <VerifyGroupKey groupId={id} />
          <LogHead groupId={id} />
          <RosterTable group={group} roster={stage.roster} signer={stage.signer} onChanged={load} />
          {stage.signer ? <Manage group={group} onChanged={load} /> : group.my_role === "coordinator" && <Notice>{g("no_signer")}</Notice>}
          {stage.signer && stage.roster.members.get(me)?.role === "coordinator" && <HistoryGrantCard groupId={id} roster={stage.roster} />}
        </>
      )}
    </>
  );
}

export function GroupScreen() {
  const { params } = useRoute();
  const id = params.id ?? "";
  return <section>{vault.value ? <GroupView key={id} id={id} /> : (<><ScreenTitle>{g("title")}</ScreenTitle><KeystoreGate /></>)}</section>;
}
