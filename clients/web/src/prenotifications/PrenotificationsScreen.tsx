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
import { inboxTick } from "../feed/live";
import { fetchNames, memberLabel, type MemberName } from "../feed/names";
import { describe as describeFailure, KeystoreGate, liveFeed, vault } from "../feed/unlock";
import { type Described, formatDate, language } from "../i18n";
import { archived, codeLabel, DISCREPANCY_KINDS, domainRegistry, groupRegistry, InvalidContentError, isOverdue, type Item, PN, type PrenotificationView, type RecordsContext, STATUS_EVENT, sync, type TemplateRegistry, vocabularies } from "../records";
import { recordsContext } from "../records/context";
import { discrepancyCase, joinViews, listRecords, movesFor, PN_TEMPLATE, type PnRecord, sendPrenotification, transition } from "./engine";
import { matches, type PnFilters } from "./filters";
import { m } from "./messages";
import "./prenotifications.css";
import { type Codes, emptyForm, formData, type FormState, formStateOf, problems, TemplateForm } from "./TemplateForm";
import { useDraft } from "../storage/drafts";

type Tab = "inbox" | "outbox" | "overdue" | "new";

const statusLabel = (s: string) => m(`status_${s}` as "status_sent");
const shortId = (id: string | null) => (id ?? "?").slice(0, 8);
const obj = (v: unknown) => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

function describe(error: unknown): Described {
  if (error instanceof InvalidContentError) return { message: error.message, code: "template.invalid_content" };
  return describeFailure(error);
}

/** A refused item: a blocking warning in plain language, the reason for support; never content. */
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

/** Everything the screen needs of one group: keys, the records context, templates, names. */
interface Pane {
  ctx: RecordsContext;
  channel: GroupChannel;
  registry: TemplateRegistry;
  names: Map<string, MemberName>;
  codes: Codes;
}

const codes: Codes = (vocab, lang) => (vocabularies[vocab] ?? []).map((e) => ({ code: e.code, label: codeLabel(vocab, e.code, lang) }));

function Summary({ view }: { view: PrenotificationView }) {
  const d = view.data;
  const product = obj(d.product);
  const transport = obj(d.transport);
  const transit = Array.isArray(d.transit_countries) && d.transit_countries.length ? ` → ${(d.transit_countries as string[]).join(" → ")}` : "";
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
      <dd dir="ltr">{Array.isArray(d.lots) ? d.lots.map((l) => `${String(obj(l).lot_number)} × ${String(obj(l).quantity)} (${String(obj(l).expiry_date)})`).join(", ") : "—"}</dd>
    </dl>
  );
}

function Timeline({ view, pane }: { view: PrenotificationView; pane: Pane }) {
  const me = pane.ctx.userId;
  const who = (id: unknown) => (id === me ? m("you") : typeof id === "string" ? memberLabel(id, pane.names.get(id)) : "?");
  const when = (iso: string | null) => (iso ? formatDate(iso) : "");
  const entries: Item[] = [...view.events, ...view.refused.filter((i) => i.type === STATUS_EVENT)].sort((a, b) => a.seq - b.seq);
  return (
    <section aria-labelledby="pn-timeline">
      <h3 id="pn-timeline">{m("timeline")}</h3>
      <ol class="timeline">
        <li data-status="sent">
          <strong>{m("sent_event")}</strong> <span class="meta">{m("by", { who: who(view.original.sender_user_id), when: when(view.original.sent_at) })}</span>
        </li>
        {entries.map((item) => {
          const e = item.event ?? {};
          return item.valid ? (
            <li key={item.seq} data-event={String(e.seq)} data-status={String(e.to)} data-verified="true">
              <strong>{m("event", { from: statusLabel(String(e.from)), to: statusLabel(String(e.to)) })}</strong>{" "}
              <span class="meta">{m("by", { who: who(e.actor_user_id), when: typeof e.ts === "number" ? formatDate(new Date(e.ts).toISOString()) : "" })}</span> <span class="badge ok">{m("verified")}</span>
            </li>
          ) : (
            <li key={item.seq} data-event={String(e.seq)} data-verified="false">
              <Refusal title={m("event_refused")} reason={item.error ?? "refused"} />
            </li>
          );
        })}
      </ol>
    </section>
  );
}

function DiscrepancyForm({ onSubmit, busy }: { onSubmit: (d: Record<string, unknown>) => void; busy: boolean }) {
  const [kind, setKind] = useState<string>(DISCREPANCY_KINDS[0]);
  const [details, setDetails] = useState("");
  const [lots, setLots] = useState("");
  const [quantity, setQuantity] = useState("");
  const [temperature, setTemperature] = useState("");
  function submit(event: Event) {
    event.preventDefault();
    const finding: Record<string, unknown> = { kind, details };
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

/** The sender's new version, pre-filled from the current one and validated before it is signed. */
function AmendForm({ pane, view, busy, onSubmit }: { pane: Pane; view: PrenotificationView; busy: boolean; onSubmit: (data: Record<string, unknown>) => Promise<void> }) {
  const template = pane.registry.get(PN_TEMPLATE);
  const [form, setForm] = useState<FormState>(() => formStateOf(template.schema(), view.data));
  const [showAll, setShowAll] = useState(false);
  const [error, setError] = useState<Described | null>(null);
  return (
    <form
      class="card pn-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        setShowAll(true);
        const data = formData(template.schema(), form, pane.codes);
        const found = problems(template, data);
        if (found.size) return setError({ message: m("fix_errors", { n: String(found.size) }), code: null });
        setError(null);
        void onSubmit(data);
      }}
    >
      <h4>{m("act_amended")}</h4>
      <TemplateForm template={template} codes={pane.codes} state={form} onChange={setForm} showAll={showAll} />
      <ErrorLine error={error} />
      <button type="submit" disabled={busy}>
        {m("submit_amendment")}
      </button>
    </form>
  );
}

function Detail({ pane, view, onBack, onChanged }: { pane: Pane; view: PrenotificationView; onBack: () => void; onChanged: () => Promise<void> }) {
  const [error, setError] = useState<Described | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [finding, setFinding] = useState(false);
  const [amending, setAmending] = useState(false);
  const [caseSeq, setCaseSeq] = useState<number | null>(null);
  async function openCase() {
    setBusy(true);
    setError(null);
    try {
      setCaseSeq((await discrepancyCase(pane.ctx, pane.channel, pane.registry, view)).seq);
    } catch (failure) {
      setError(describe(failure));
    } finally {
      setBusy(false);
    }
  }
  async function move(to: string, detail?: Record<string, unknown>) {
    setBusy(true);
    setError(null);
    try {
      await transition(pane.ctx, pane.channel, pane.registry, view, to, detail);
      setFinding(false);
      setAmending(false);
      setNotice(m("done", { status: statusLabel(to) }));
      await onChanged();
    } catch (failure) {
      setError(describe(failure));
    } finally {
      setBusy(false);
    }
  }
  const blocked = view.refused.length > 0;
  const status = view.status; // after the last *verified* signed event, whatever the server says
  const moves = blocked ? [] : movesFor(view, pane.channel.session.roster, pane.ctx.userId);
  const overdue = isOverdue(view.status, view.data, Date.now());
  return (
    <article class="pn-detail" aria-labelledby="pn-detail-title" data-prenotification={view.id ?? ""}>
      <button type="button" class="link" onClick={onBack}>
        {m("back")}
      </button>
      <h2 id="pn-detail-title">{m("detail_title", { id: shortId(view.id) })}</h2>
      <p>
        {m("col_status")}:{" "}
        <strong class="status" data-status={status}>
          {statusLabel(status)}
        </strong>
        {overdue && <span class="badge overdue"> {m("overdue_badge")}</span>}
      </p>
      {view.refused
        .filter((i) => i.type !== STATUS_EVENT)
        .map((i) => (
          <Refusal key={i.seq} title={m("item_refused")} reason={i.error ?? "refused"} />
        ))}
      <Summary view={view} />
      <Timeline view={view} pane={pane} />
      {view.discrepancies.length > 0 && (
        <section aria-labelledby="pn-findings">
          <h3 id="pn-findings">{m("findings")}</h3>
          <ul class="findings">
            {view.discrepancies.map((f) => {
              const d = f.data ?? {};
              return (
                <li key={f.seq} dir="auto" data-kind={String(d.kind)}>
                  <strong>{m(`kind_${String(d.kind)}` as "kind_quantity")}</strong>: {String(d.details)}
                  {Array.isArray(d.lots) && ` (${(d.lots as string[]).join(", ")})`}
                </li>
              );
            })}
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
              to === "amended" ? (
                <button key={to} type="button" class="secondary" aria-expanded={amending} onClick={() => setAmending(!amending)} disabled={busy}>
                  {m("act_amended")}
                </button>
              ) : to === "discrepancy" ? (
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
          {amending && <AmendForm pane={pane} view={view} busy={busy} onSubmit={(d) => move("amended", d)} />}
        </section>
      )}
      {status === "discrepancy" && view.discrepancies.length > 0 && movesFor(view, pane.channel.session.roster, pane.ctx.userId).includes("cleared") && caseSeq === null && !blocked && (
        <button type="button" class="secondary" onClick={() => void openCase()} disabled={busy}>
          {m("act_case")}
        </button>
      )}
      {caseSeq !== null && (
        <p class="notice" role="status">
          {m("case_opened", { seq: String(caseSeq) })} <a href={`/cases?group=${pane.channel.groupId}&seq=${caseSeq}`}>{m("case_link")}</a>
        </p>
      )}
    </article>
  );
}

type Listed = { view: PrenotificationView; direction: "inbox" | "outbox"; overdue: boolean };

function List({ listed, refused, tab, onOpen }: { listed: Listed[]; refused: Item[]; tab: Exclude<Tab, "new">; onOpen: (seq: number) => void }) {
  const [filters, setFilters] = useState<PnFilters>({ country: "", etaFrom: "", etaTo: "" });
  const shown = listed.filter((l) => (tab === "overdue" ? l.overdue : l.direction === tab) && matches(l.view.data, filters));
  return (
    <div>
      <fieldset class="filters">
        <legend>{m("filters")}</legend>
        <label>
          {m("filter_country")}
          <input type="text" maxLength={2} autoComplete="off" value={filters.country} onInput={(e) => setFilters({ ...filters, country: (e.currentTarget as HTMLInputElement).value })} />
        </label>
        <label>
          {m("filter_eta_from")}
          <input type="date" value={filters.etaFrom} onInput={(e) => setFilters({ ...filters, etaFrom: (e.currentTarget as HTMLInputElement).value })} />
        </label>
        <label>
          {m("filter_eta_to")}
          <input type="date" value={filters.etaTo} onInput={(e) => setFilters({ ...filters, etaTo: (e.currentTarget as HTMLInputElement).value })} />
        </label>
      </fieldset>
      {tab === "overdue" && <p class="hint">{m("overdue_hint")}</p>}
      {tab === "inbox" &&
        refused.map((i) => (
          <Refusal key={i.seq} title={m("refused_list", { id: String(i.seq) })} reason={i.error ?? "refused"} />
        ))}
      {shown.length === 0 && <p>{m("empty")}</p>}
      <ul class="pn-list">
        {shown.map(({ view, overdue }) => {
          const product = obj(view.data.product);
          const transport = obj(view.data.transport);
          const status = view.status;
          return (
            <li key={view.seq} class={overdue ? "pn overdue" : "pn"} data-prenotification={view.id ?? ""} data-status={status}>
              <p class="pn-title" dir="auto">
                <strong>{String(product.trade_name ?? "")}</strong> {overdue && <span class="badge overdue">{m("overdue_badge")}</span>}
              </p>
              <p class="meta">
                <span dir="ltr">
                  {String(view.data.sender_country ?? "?")} → {String(view.data.destination_country ?? "?")}
                </span>{" "}
                · {m("col_eta")}: {typeof transport.eta === "string" ? formatDate(transport.eta) : "—"} · {m("col_status")}: <span class="status">{statusLabel(status)}</span>
              </p>
              <button type="button" class="secondary" onClick={() => onOpen(view.seq)} aria-label={`${m("open")}: ${String(product.trade_name ?? "")} ${shortId(view.id)}`}>
                {m("open")}
              </button>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function Recipients({ legend, members, chosen, onChange, names }: { legend: string; members: string[]; chosen: string[]; onChange: (ids: string[]) => void; names: Map<string, MemberName> }) {
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

interface SendDraft {
  values: Record<string, string>;
  rows: Record<string, number>;
  destination: string[];
  transit: string[];
  disclose: boolean;
}

const EMPTY_SEND: SendDraft = { values: {}, rows: {}, destination: [], transit: [], disclose: false };

function SendForm({ pane, onSent }: { pane: Pane; onSent: () => void }) {
  const me = pane.ctx.userId;
  // The typed form lives in an encrypted draft (useDraft), so a reload or a lost connection keeps it.
  const draft = useDraft<SendDraft>(`prenotifications/send/${pane.channel.groupId}`, EMPTY_SEND);
  const [touched, setTouched] = useState<Set<string>>(new Set());
  const form: FormState = { values: draft.value.values, rows: draft.value.rows, touched };
  const setForm = (next: FormState) => (setTouched(next.touched), draft.set({ ...draft.value, values: next.values, rows: next.rows }));
  const { destination, transit, disclose } = draft.value;
  const setDestination = (ids: string[]) => draft.set({ ...draft.value, destination: ids });
  const setTransit = (ids: string[]) => draft.set({ ...draft.value, transit: ids });
  const setDisclose = (on: boolean) => draft.set({ ...draft.value, disclose: on });
  const [showAll, setShowAll] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Described | null>(null);
  const [listed, setListed] = useState<[string, string[]][]>([]);
  const template = pane.registry.get(PN_TEMPLATE);
  const members = [...pane.channel.session.roster.members.keys()].filter((id) => id !== me);
  async function submit(event: Event) {
    event.preventDefault();
    setShowAll(true);
    setError(null);
    const data = formData(template.schema(), form, pane.codes);
    const found = problems(template, data);
    setListed([...found]);
    if (found.size) return setError({ message: m("fix_errors", { n: String(found.size) }), code: null });
    setBusy(true);
    try {
      await sendPrenotification(pane.ctx, pane.channel, pane.registry, { data, destination, transit, discloseEta: disclose, templateVersion: template.version });
      await draft.discard();
      setTouched(new Set());
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
      <p class="hint" role="status">
        {draft.state === "saved" ? m("draft_saved") : ""}
      </p>
      <Recipients legend={m("destination")} members={members} chosen={destination} onChange={setDestination} names={pane.names} />
      <Recipients legend={m("transit")} members={members.filter((id) => !destination.includes(id))} chosen={transit} onChange={setTransit} names={pane.names} />
      <p class="hint">{m("recipients_hint")}</p>
      <TemplateForm template={template} codes={pane.codes} state={form} onChange={setForm} showAll={showAll} />
      <label class="check">
        <input type="checkbox" checked={disclose} onChange={(e) => setDisclose((e.currentTarget as HTMLInputElement).checked)} /> {m("disclose_eta")}
      </label>
      <ErrorLine error={error} />
      {error && listed.length > 0 && (
        <ul class="field-error" aria-label={m("fix_errors", { n: String(listed.length) })}>
          {listed.map(([path, reasons]) => (
            <li key={path}>
              {template.label(path, language.value)}
              {/\[\d+\]/.test(path) ? ` (${path})` : ""}: {reasons.join("; ")}
            </li>
          ))}
        </ul>
      )}
      <button type="submit" disabled={busy || destination.length === 0}>
        {m("send")}
      </button>
    </form>
  );
}

function GroupPane({ group }: { group: GroupSummary }) {
  const [pane, setPane] = useState<Pane | null>(null);
  const [views, setViews] = useState<PrenotificationView[] | null>(null);
  const [refused, setRefused] = useState<Item[]>([]);
  const [tab, setTab] = useState<Tab>("inbox");
  const [open, setOpen] = useState<number | null>(null);
  const [error, setError] = useState<Described | null>(null);
  const [sent, setSent] = useState(false);
  async function ready(): Promise<Pane> {
    if (pane) return pane;
    const v = vault.value!;
    const ctx = recordsContext(v, session.value!.user.id);
    const channel = await liveFeed()!.channel(group.id);
    await channel.refresh();
    const { registry } = await groupRegistry(ctx, group.id, domainRegistry());
    const next = { ctx, channel, registry, codes, names: await fetchNames(group.id, channel.session.roster.members.keys()) };
    setPane(next);
    return next;
  }
  async function load() {
    try {
      const p = await ready();
      await sync(p.ctx, p.registry); // what the live feed opened: validated, events verified, archived
      const records = await listRecords(p.ctx, group.id);
      setViews(joinViews(p.ctx, group.id, records));
      setRefused(archived(p.ctx.secrets, group.id).filter((i) => i.kind === PN && i.parent_seq === null && !i.valid));
    } catch (failure) {
      setError(describe(failure));
    }
  }
  useEffect(() => void load(), [group.id, inboxTick.value]);
  const me = session.value!.user.id;
  const now = Date.now();
  const listed: Listed[] = (views ?? []).map((view) => ({ view, direction: view.original.sender_user_id === me ? "outbox" : "inbox", overdue: isOverdue(view.status, view.data, now) }));
  const current = open !== null ? views?.find((v) => v.seq === open) : undefined;
  const tabs: Tab[] = ["inbox", "outbox", "overdue", "new"];
  return (
    <section aria-label={group.name} class="pn-group">
      <ErrorLine error={error} />
      {!views && !error && <p>{m("loading")}</p>}
      {pane && views && current && <Detail pane={pane} view={current} onBack={() => setOpen(null)} onChanged={load} />}
      {pane && views && !current && (
        <>
          <div class="tabs" role="group" aria-label={m("views")}>
            {tabs.map((t) => (
              <button key={t} type="button" class="tab" aria-pressed={tab === t} onClick={() => (setTab(t), setSent(false))}>
                {m(t)}
                {t !== "new" && ` (${listed.filter((l) => (t === "overdue" ? l.overdue : l.direction === t)).length})`}
              </button>
            ))}
          </div>
          {sent && <Notice>{m("sent_ok")}</Notice>}
          {tab === "new" ? <SendForm pane={pane} onSent={() => (setSent(true), setTab("outbox"), void load())} /> : <List listed={listed} refused={refused} tab={tab} onOpen={setOpen} />}
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
    <div class="pn-workspace">
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
    </div>
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
