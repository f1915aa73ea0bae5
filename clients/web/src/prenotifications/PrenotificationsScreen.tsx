/**
 * Vaccine pre-notifications (route `/prenotifications`): inbox, outbox and overdue lists, one
 * pre-notification with its signed status timeline and the moves this member may make
 * (acknowledge, arrival, discrepancy with its kind, clear, close, cancel), and the send form
 * generated from the group's template. A refused item or event is a blocking warning, never
 * content; a history with a refused event offers no action.
 */
import { useEffect, useState } from "preact/hooks";
import { ErrorLine, Notice, ScreenTitle } from "../app/ui";
import { session } from "../auth/session";
import { type GroupChannel, type GroupSummary, isPinned, listGroups } from "../feed/engine";
import { groupChannel, KeystoreGate, vault } from "../feed/FeedScreen";
import { fetchNames, memberLabel, type MemberName } from "../feed/names";
import { type Described, describeError, formatDate } from "../i18n";
import { archived, pnChanged } from "./archive";
import { ContentError, type Discrepancy } from "./content";
import { type CheckedEvent, capacities, checkHistory, getRecord, listRecords, type PnRecord, sendPrenotification, transition } from "./engine";
import { m } from "./messages";
import { emptyForm, formData, type FormState, problems, TemplateForm } from "./TemplateForm";
import { loadTemplates, type PnTemplates } from "./templates";
import { buildViews, type PnView } from "./view";
import { allowedMoves, DISCREPANCY_KINDS, type Status } from "./workflow";

type Tab = "inbox" | "outbox" | "overdue" | "new";
type Names = Map<string, MemberName>;

const statusLabel = (s: string) => m(`status_${s}` as "status_sent");
const shortId = (id: string) => id.slice(0, 8);

function describe(error: unknown): Described {
  if (error instanceof Error && !("status" in error) && error.name !== "NetworkError") return { message: error.message, code: "code" in error ? String(error.code) : null };
  return describeError(error);
}

function Refusal({ title, reason }: { title: string; reason: string }) {
  return (
    <div class="item refused" role="alert">
      <strong>{title}</strong>
      <p class="code" dir="ltr">
        {m("technical", { reason })}
      </p>
    </div>
  );
}

const data = (v: PnView) => (v.content?.data ?? {}) as Record<string, Record<string, unknown> & unknown>;

function Summary({ view }: { view: PnView }) {
  const d = data(view);
  const product = (d.product ?? {}) as Record<string, unknown>;
  const transport = (d.transport ?? {}) as Record<string, unknown>;
  const transit = Array.isArray(d.transit_countries) ? ` → ${(d.transit_countries as string[]).join(" → ")}` : "";
  return (
    <dl class="pn-summary">
      <dt>{m("col_product")}</dt>
      <dd dir="auto">
        {String(product.trade_name ?? "")} ({String(product.vaccine_type ?? "")}) · {m("doses", { doses: String(product.doses ?? "?") })}
      </dd>
      <dt>{m("parties")}</dt>
      <dd dir="ltr">
        {String(d.sender_country ?? "?")}
        {transit} → {String(d.destination_country ?? "?")}
      </dd>
      <dt>{m("transport")}</dt>
      <dd dir="auto">{[transport.mode, transport.carrier, transport.flight_voyage, transport.awb_master].filter(Boolean).join(" · ")}</dd>
      <dt>{m("col_eta")}</dt>
      <dd>{typeof transport.eta === "string" ? formatDate(transport.eta) : "—"}</dd>
      <dt>{m("lots")}</dt>
      <dd dir="ltr">{Array.isArray(d.lots) ? (d.lots as Record<string, unknown>[]).map((l) => `${String(l.lot_number)} × ${String(l.quantity)} (${String(l.expiry_date)})`).join(", ") : "—"}</dd>
    </dl>
  );
}

function Timeline({ record, checked, names }: { record: PnRecord; checked: CheckedEvent[]; names: Names }) {
  const me = session.value!.user.id;
  const who = (id: string | null) => (id === me ? m("you") : id ? memberLabel(id, names.get(id)) : "?");
  return (
    <section aria-labelledby="pn-timeline">
      <h3 id="pn-timeline">{m("timeline")}</h3>
      <ol class="timeline">
        <li data-status="sent">
          <strong>{m("sent_event")}</strong> <span class="meta">{m("by", { who: who(record.sender_user_id), when: formatDate(record.sent_at) })}</span>
        </li>
        {checked.map(({ record: e, refused }) =>
          refused !== null ? (
            <li key={e.seq} data-event={e.seq} data-verified="false">
              <Refusal title={m("event_refused")} reason={refused} />
            </li>
          ) : (
            <li key={e.seq} data-event={e.seq} data-status={e.to_status} data-verified="true">
              <strong>{m("event", { from: statusLabel(e.from_status ?? "sent"), to: statusLabel(e.to_status) })}</strong>{" "}
              <span class="meta">{m("by", { who: who(e.actor_user_id), when: formatDate(new Date(e.ts).toISOString()) })}</span> <span class="badge ok">{m("verified")}</span>
            </li>
          ),
        )}
      </ol>
    </section>
  );
}

function DiscrepancyForm({ onSubmit, busy }: { onSubmit: (d: Discrepancy) => void; busy: boolean }) {
  const [kind, setKind] = useState<string>(DISCREPANCY_KINDS[0]);
  const [details, setDetails] = useState("");
  const [lots, setLots] = useState("");
  const [quantity, setQuantity] = useState("");
  const [temperature, setTemperature] = useState("");
  function submit(event: Event) {
    event.preventDefault();
    const finding: Discrepancy = { kind, details };
    const lotList = lots.split(",").map((l) => l.trim()).filter(Boolean);
    if (lotList.length) finding.lots = lotList;
    if (quantity.trim()) finding.quantity_found = Number(quantity);
    if (temperature.trim()) finding.temperature_c = Number(temperature);
    onSubmit(finding);
  }
  return (
    <form class="card" onSubmit={submit}>
      <h4>{m("act_discrepancy")}</h4>
      <div class="field">
        <label for="pn-kind">{m("kind")}</label>
        <select id="pn-kind" value={kind} onChange={(e) => setKind((e.currentTarget as HTMLSelectElement).value)}>
          {DISCREPANCY_KINDS.map((k) => (
            <option key={k} value={k}>
              {m(`kind_${k}`)}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="pn-details">{m("details")}</label>
        <textarea id="pn-details" required maxLength={10000} value={details} onInput={(e) => setDetails((e.currentTarget as HTMLTextAreaElement).value)} />
      </div>
      <div class="field">
        <label for="pn-lots">{m("lots_concerned")}</label>
        <input id="pn-lots" type="text" dir="ltr" value={lots} onInput={(e) => setLots((e.currentTarget as HTMLInputElement).value)} />
      </div>
      <div class="field">
        <label for="pn-quantity">{m("quantity_found")}</label>
        <input id="pn-quantity" type="text" inputMode="decimal" dir="ltr" value={quantity} onInput={(e) => setQuantity((e.currentTarget as HTMLInputElement).value)} />
      </div>
      <div class="field">
        <label for="pn-temperature">{m("temperature_found")}</label>
        <input id="pn-temperature" type="text" inputMode="decimal" dir="ltr" value={temperature} onInput={(e) => setTemperature((e.currentTarget as HTMLInputElement).value)} />
      </div>
      <button type="submit" disabled={busy || !details.trim()}>
        {m("submit_discrepancy")}
      </button>
    </form>
  );
}

function Detail({ channel, view, names, onBack, onChanged }: { channel: GroupChannel; view: PnView; names: Names; onBack: () => void; onChanged: () => void }) {
  const me = session.value!.user.id;
  const [record, setRecord] = useState<PnRecord | null>(null);
  const [checked, setChecked] = useState<CheckedEvent[] | null>(null);
  const [error, setError] = useState<Described | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [finding, setFinding] = useState(false);
  async function load() {
    try {
      const fresh = await getRecord(channel.groupId, view.record.id);
      setChecked(await checkHistory(channel, fresh));
      setRecord(fresh);
    } catch (failure) {
      setError(describe(failure));
    }
  }
  useEffect(() => void load(), [view.record.id, pnChanged.value]);
  async function move(to: Status, detail?: Discrepancy) {
    if (!record || !view.content) return;
    setBusy(true);
    setError(null);
    try {
      await transition(channel, me, record, view.content, to, detail);
      setFinding(false);
      setNotice(m("done", { status: statusLabel(to) }));
      await load();
      onChanged();
    } catch (failure) {
      setError(failure instanceof ContentError ? { message: failure.message, code: null } : describe(failure));
    } finally {
      setBusy(false);
    }
  }
  const blocked = (checked ?? []).some((c) => c.refused !== null) || view.refused.length > 0 || !view.content;
  const moves = record && !blocked ? allowedMoves(record.status, capacities(record, view.content?.routing ?? null, channel.session.roster, me)).filter((s) => s !== "amended") : [];
  return (
    <article class="pn-detail" aria-labelledby="pn-detail-title" data-prenotification={view.record.id}>
      <button type="button" class="link" onClick={onBack}>
        {m("back")}
      </button>
      <h2 id="pn-detail-title">{m("detail_title", { id: shortId(view.record.id) })}</h2>
      {record && (
        <p>
          {m("col_status")}:{" "}
          <strong class="status" data-status={record.status}>
            {statusLabel(record.status)}
          </strong>
          {view.overdue && <span class="badge overdue"> {m("overdue_badge")}</span>}
        </p>
      )}
      {view.refused.map((r) => (
        <Refusal key={r.seq} title={m("item_refused")} reason={r.reason} />
      ))}
      {view.content && <Summary view={view} />}
      {record && checked && <Timeline record={record} checked={checked} names={names} />}
      {view.findings.length > 0 && (
        <section aria-labelledby="pn-findings">
          <h3 id="pn-findings">{m("findings")}</h3>
          <ul class="findings">
            {view.findings.map((f) => (
              <li key={f.seq} dir="auto">
                <strong>{m(`kind_${String(f.data.kind)}` as "kind_quantity")}</strong>: {String(f.data.details)}
                {Array.isArray(f.data.lots) && ` (${(f.data.lots as string[]).join(", ")})`}
              </li>
            ))}
          </ul>
        </section>
      )}
      <ErrorLine error={error} />
      {notice && <Notice>{notice}</Notice>}
      {moves.length > 0 && (
        <section aria-labelledby="pn-actions" class="actions-box">
          <h3 id="pn-actions">{m("actions")}</h3>
          <div class="actions">
            {moves.map((to) =>
              to === "discrepancy" ? (
                <button key={to} type="button" class="secondary" aria-expanded={finding} onClick={() => setFinding(!finding)} disabled={busy}>
                  {m("act_discrepancy")}
                </button>
              ) : (
                <button key={to} type="button" onClick={() => void move(to)} disabled={busy}>
                  {m(`act_${to}` as "act_acknowledged")}
                </button>
              ),
            )}
          </div>
          {finding && <DiscrepancyForm busy={busy} onSubmit={(d) => void move("discrepancy", d)} />}
        </section>
      )}
      {record?.status === "discrepancy" && view.direction === "inbox" && <Notice>{m("case_unavailable")}</Notice>}
    </article>
  );
}

function List({ views, tab, onOpen }: { views: PnView[]; tab: Exclude<Tab, "new">; onOpen: (id: string) => void }) {
  const shown = views.filter((v) => (tab === "overdue" ? v.overdue : v.direction === tab));
  return (
    <div>
      {tab === "overdue" && <p class="hint">{m("overdue_hint")}</p>}
      {shown.length === 0 && <p>{m("empty")}</p>}
      <ul class="pn-list">
        {shown.map((v) => {
          const d = data(v);
          const product = (d.product ?? {}) as Record<string, unknown>;
          const transport = (d.transport ?? {}) as Record<string, unknown>;
          if (!v.content && v.refused.length) {
            return (
              <li key={v.record.id} data-prenotification={v.record.id}>
                <Refusal title={m("refused_list", { id: shortId(v.record.id) })} reason={v.refused[0]!.reason} />
              </li>
            );
          }
          return (
            <li key={v.record.id} class={v.overdue ? "pn overdue" : "pn"} data-prenotification={v.record.id} data-status={v.record.status}>
              <p class="pn-title" dir="auto">
                <strong>{v.content ? String(product.trade_name ?? "") : m("not_decrypted")}</strong> {v.overdue && <span class="badge overdue">{m("overdue_badge")}</span>}
              </p>
              <p class="meta">
                <span dir="ltr">
                  {String(d.sender_country ?? "?")} → {String(d.destination_country ?? "?")}
                </span>{" "}
                · {m("col_eta")}: {typeof transport.eta === "string" ? formatDate(transport.eta) : "—"} · {m("col_status")}: <span class="status">{statusLabel(v.record.status)}</span>
              </p>
              <button type="button" class="secondary" onClick={() => onOpen(v.record.id)} aria-label={`${m("open")}: ${String(product.trade_name ?? shortId(v.record.id))}`}>
                {m("open")}
              </button>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function Recipients({ legend, members, chosen, onChange, names }: { legend: string; members: string[]; chosen: string[]; onChange: (ids: string[]) => void; names: Names }) {
  return (
    <fieldset class="group-fields">
      <legend>{legend}</legend>
      {members.map((id) => (
        <label class="check" key={id}>
          <input type="checkbox" checked={chosen.includes(id)} onChange={(e) => onChange((e.currentTarget as HTMLInputElement).checked ? [...chosen, id] : chosen.filter((c) => c !== id))} /> <span dir="auto">{memberLabel(id, names.get(id))}</span>
        </label>
      ))}
    </fieldset>
  );
}

function SendForm({ channel, templates, names, onSent }: { channel: GroupChannel; templates: PnTemplates; names: Names; onSent: () => void }) {
  const me = session.value!.user.id;
  const [form, setForm] = useState<FormState>(emptyForm());
  const [destination, setDestination] = useState<string[]>([]);
  const [transit, setTransit] = useState<string[]>([]);
  const [disclose, setDisclose] = useState(false);
  const [showAll, setShowAll] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Described | null>(null);
  const members = [...channel.session.roster.members.keys()].filter((id) => id !== me);
  const { template, codes } = templates;
  async function submit(event: Event) {
    event.preventDefault();
    setShowAll(true);
    setError(null);
    const data = formData(template.schema(), form, codes);
    const found = problems(template, data);
    if (found.size) return setError({ message: m("fix_errors", { n: String(found.size) }), code: null });
    setBusy(true);
    try {
      await sendPrenotification(channel, me, { data, template: { id: template.id, version: template.version, form: template.defaultForm }, destination, transit, discloseEta: disclose });
      setForm(emptyForm());
      setShowAll(false);
      onSent();
    } catch (failure) {
      setError(describe(failure));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form class="card pn-form" onSubmit={submit} noValidate>
      <h2>{m("form_title")}</h2>
      <p class="hint">{m("form_hint", { version: String(template.version) })}</p>
      <Recipients legend={m("destination")} members={members} chosen={destination} onChange={setDestination} names={names} />
      <Recipients legend={m("transit")} members={members.filter((id) => !destination.includes(id))} chosen={transit} onChange={setTransit} names={names} />
      <p class="hint">{m("recipients_hint")}</p>
      <TemplateForm template={template} codes={codes} state={form} onChange={setForm} showAll={showAll} />
      <label class="check">
        <input type="checkbox" checked={disclose} onChange={(e) => setDisclose((e.currentTarget as HTMLInputElement).checked)} /> {m("disclose_eta")}
      </label>
      <ErrorLine error={error} />
      <button type="submit" disabled={busy || destination.length === 0}>
        {m("send")}
      </button>
    </form>
  );
}

function GroupPane({ group }: { group: GroupSummary }) {
  const me = session.value!.user.id;
  const [channel, setChannel] = useState<GroupChannel | null>(null);
  const [templates, setTemplates] = useState<PnTemplates | null>(null);
  const [records, setRecords] = useState<PnRecord[] | null>(null);
  const [names, setNames] = useState<Names>(new Map());
  const [tab, setTab] = useState<Tab>("inbox");
  const [open, setOpen] = useState<string | null>(null);
  const [error, setError] = useState<Described | null>(null);
  const [sent, setSent] = useState(false);
  async function load() {
    try {
      const c = channel ?? (await groupChannel(group.id));
      if (!channel) {
        await c.refresh();
        setChannel(c);
        setTemplates(await loadTemplates(group.id));
        setNames(await fetchNames(group.id, c.session.roster.members.keys()));
      }
      setRecords(await listRecords(group.id));
    } catch (failure) {
      setError(describe(failure));
    }
  }
  useEffect(() => void load(), [group.id, pnChanged.value]);
  const views = channel && records && templates ? buildViews(records, archived(channel.vault.data, group.id), me, templates.validate, new Date()) : null;
  const current = open && views ? views.find((v) => v.record.id === open) : null;
  const tabs: Tab[] = ["inbox", "outbox", "overdue", "new"];
  return (
    <section aria-labelledby="pn-group" class="pn-group">
      <h2 id="pn-group" class="visually-hidden">
        {group.name}
      </h2>
      <ErrorLine error={error} />
      {!views && !error && <p>{m("loading")}</p>}
      {views && channel && templates && current && <Detail channel={channel} view={current} names={names} onBack={() => setOpen(null)} onChanged={() => void load()} />}
      {views && channel && templates && !current && (
        <>
          <div class="tabs" role="group" aria-label={m("views")}>
            {tabs.map((t) => (
              <button key={t} type="button" class="tab" aria-pressed={tab === t} onClick={() => (setTab(t), setSent(false))}>
                {m(t)}
                {t !== "new" && ` (${views.filter((v) => (t === "overdue" ? v.overdue : v.direction === t)).length})`}
              </button>
            ))}
          </div>
          {sent && <Notice>{m("sent_ok")}</Notice>}
          {tab === "new" ? (
            <SendForm channel={channel} templates={templates} names={names} onSent={() => (setSent(true), setTab("outbox"), void load())} />
          ) : (
            <List views={views} tab={tab} onOpen={setOpen} />
          )}
        </>
      )}
    </section>
  );
}

function Workspace() {
  const [groups, setGroups] = useState<GroupSummary[] | null>(null);
  const [selected, setSelected] = useState<string>("");
  const [error, setError] = useState<Described | null>(null);
  useEffect(() => {
    listGroups()
      .then((all) => {
        const usable = all.filter((g) => isPinned(vault.value!, g.id));
        setGroups(usable);
        if (usable[0]) setSelected(usable[0].id);
      })
      .catch((failure) => setError(describe(failure)));
  }, []);
  const group = groups?.find((g) => g.id === selected);
  return (
    <>
      <ErrorLine error={error} />
      {groups && groups.length === 0 && <Notice>{m("no_groups")}</Notice>}
      {groups && groups.length > 0 && (
        <div class="field">
          <label for="pn-group-pick">{m("group")}</label>
          <select id="pn-group-pick" value={selected} onChange={(e) => setSelected((e.currentTarget as HTMLSelectElement).value)}>
            {groups.map((g) => (
              <option key={g.id} value={g.id}>
                {g.name}
              </option>
            ))}
          </select>
        </div>
      )}
      {group && <GroupPane key={group.id} group={group} />}
    </>
  );
}

export function PrenotificationsScreen() {
  return (
    <section>
      <ScreenTitle>{m("title")}</ScreenTitle>
      <p>{m("intro")}</p>
      {vault.value ? <Workspace /> : <KeystoreGate />}
    </section>
  );
}
