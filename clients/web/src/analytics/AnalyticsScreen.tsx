/**
 * Operation analytics (route `/analytics`, a lazy chunk): for a group, the figures of
 * docs/ANALYTICS.md computed in the browser by `analyse` from this device's verified local
 * archive (the one the cases and pre-notification screens use), after a sync; recomputed when
 * the live feed pushes new items into the records inbox. Filters (region, period, category)
 * narrow the archive; a number opens the cases behind it, each a link to `/cases`.
 *
 * Charts are CSS bars (a `<span>` whose width is set through the CSSOM, which the CSP allows)
 * beside the number in a real table, so screen readers read the table and no chart library
 * (most need `eval`-free builds we would have to vet, and all add a chunk) is needed.
 */
import { useLocation } from "preact-iso";
import { useMemo, useState } from "preact/hooks";
import { ErrorLine, Notice, ScreenTitle } from "../app/ui";
import type { GroupSummary } from "../feed/engine";
import { KeystoreGate, LinkBanner, vault } from "../feed/unlock";
import { type Described, language } from "../i18n";
import { useGroupRecords } from "../records/useGroupRecords";
import { codeLabel } from "../records/templates";
import { domainRegistry, type Item } from "../records/view";
import { GroupPicker } from "../groups/GroupPicker";
import { analyse, codes, type Params, PIECE_FIGURES, type Table } from "./figures";
import { casesBehind, type Drill, narrowArchive, parsePhases, periodParams } from "./filters";
import { analyticsMsg as m } from "./messages";
import { moreSections, type Row } from "./sections";
import "./analytics.css";

type Key = Parameters<typeof m>[0];
const WHAT_KEYS: ReadonlySet<string> = new Set(["case", "case_amendment", "prenotification", "prenotification_amendment", "discrepancy", "status_event", "alert"].map((w) => `what_${w}`));

function Bar({ value, max }: { value: number; max: number }) {
  return (
    <span class="an-bar" aria-hidden="true">
      <span style={{ width: `${max > 0 ? Math.round((100 * value) / max) : 0}%` }} />
    </span>
  );
}

function DrillButton({ label, n, onDrill }: { label: string; n: number; onDrill: () => void }) {
  return (
    <button type="button" class="link an-num" aria-label={m("show_cases", { what: label, n: String(n) })} onClick={onDrill} disabled={n === 0}>
      {n.toLocaleString(language.value)}
    </button>
  );
}

function KeyFigures({ table, onDrill }: { table: Table; onDrill: (d: Drill, label: string) => void }) {
  const k = table.key_figures;
  const fmt = (n: number) => n.toLocaleString(language.value);
  return (
    <section aria-labelledby="an-key">
      <h3 id="an-key">{m("key_figures")}</h3>
      <dl class="an-key">
        <div data-figure="members_reporting">
          <dt>{m("members_reporting")}</dt>
          <dd>{fmt(k.members_reporting)}</dd>
        </div>
        <div data-figure="cases">
          <dt>{m("cases")}</dt>
          <dd>
            <DrillButton label={m("cases")} n={k.cases} onDrill={() => onDrill({ kind: "all" }, m("cases"))} />
          </dd>
        </div>
        <div data-figure="seizure_reports">
          <dt>{m("seizure_reports")}</dt>
          <dd>{fmt(k.seizure_reports)}</dd>
        </div>
        {[...PIECE_FIGURES, "total" as const].map((name) => (
          <div key={name} data-figure={`pieces.${name}`}>
            <dt>
              {m(name)} ({m("pieces")})
            </dt>
            <dd>{fmt(k.pieces[name] ?? 0)}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

function BarTable({ id, title, head, rows, onDrill }: { id: string; title: string; head: string; rows: Row[]; onDrill: (d: Drill, label: string) => void }) {
  const max = Math.max(0, ...rows.filter((r) => r.of === undefined).map((r) => r.n));
  return (
    <section aria-labelledby={id}>
      <h3 id={id}>{title}</h3>
      <table class="an-table">
        <thead>
          <tr>
            <th scope="col">{head}</th>
            <th scope="col">{m("count")}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key} data-row={r.key}>
              <th scope="row" dir="auto">
                {r.label}
              </th>
              <td>
                {r.drill ? <DrillButton label={r.label} n={r.n} onDrill={() => onDrill(r.drill!, r.label)} /> : (r.text ?? r.n.toLocaleString(language.value))}
                <Bar value={r.n} max={r.of ?? max} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Dashboard({ table, groupId, items, params, onDrill, drill, closeDrill }: { table: Table; groupId: string; items: Item[]; params: Params; onDrill: (d: Drill, label: string) => void; drill: { d: Drill; label: string } | null; closeDrill: () => void }) {
  const lang = language.value;
  const pn = table.prenotifications;
  const behind = useMemo(() => (drill ? casesBehind(items, params, drill.d) : []), [drill, items, params]);
  const missing = table.not_counted.reduce((n, r) => n + r.count, 0);
  return (
    <>
      <KeyFigures table={table} onDrill={onDrill} />
      {drill && (
        <section class="an-drill" aria-labelledby="an-drill">
          <h3 id="an-drill" tabIndex={-1}>
            {m("drill_title", { what: drill.label })}
          </h3>
          <ul>
            {behind.map((c) => (
              <li key={c.view.seq}>
                <a href={`/cases?group=${encodeURIComponent(groupId)}&seq=${c.view.seq}`}>{m("open_case", { seq: String(c.view.seq), country: codeLabel("countries", c.country, lang), date: c.day })}</a>
              </li>
            ))}
          </ul>
          <button type="button" onClick={closeDrill}>
            {m("close")}
          </button>
        </section>
      )}
      <div class="an-grid">
        <BarTable
          id="an-region"
          title={m("by_region")}
          head={m("region")}
          onDrill={onDrill}
          rows={table.by_region.map((r) => ({ key: r.region, label: codeLabel("regions", r.region, lang), n: r.cases, drill: { kind: "region", region: r.region } }))}
        />
        {table.by_phase.length > 0 && (
          <BarTable id="an-phase" title={m("by_phase")} head={m("phase")} onDrill={onDrill} rows={table.by_phase.map((r) => ({ key: r.phase, label: r.phase, n: r.cases }))} />
        )}
        <BarTable id="an-week" title={m("by_week")} head={m("week")} onDrill={onDrill} rows={table.by_week.map((r) => ({ key: r.week, label: r.week, n: r.cases, drill: { kind: "week", week: r.week } }))} />
        <BarTable
          id="an-category"
          title={m("by_category")}
          head={m("category")}
          onDrill={onDrill}
          rows={Object.entries(table.by_category).map(([code, n]) => ({ key: code, label: codeLabel("goods_categories", code, lang), n, drill: { kind: "category", category: code } }))}
        />
        <BarTable
          id="an-transport"
          title={m("by_transport")}
          head={m("transport_mode")}
          onDrill={onDrill}
          rows={Object.entries(table.by_transport_mode).map(([code, n]) => ({ key: code, label: codeLabel("transport_modes", code, lang), n }))}
        />
        <BarTable
          id="an-channels"
          title={m("channels")}
          head={m("channel")}
          onDrill={onDrill}
          rows={(["free_trade_zone", "ecommerce_postal"] as const).map((key) => ({ key, label: m(key), n: table.channels[key] }))}
        />
        <BarTable
          id="an-routes"
          title={m("routes")}
          head={m("route")}
          onDrill={onDrill}
          rows={table.top_routes.map((r) => ({ key: `${r.departure}-${r.destination}`, label: `${codeLabel("countries", r.departure, lang)} → ${codeLabel("countries", r.destination, lang)}`, n: r.seizure_reports, drill: { kind: "route", departure: r.departure, destination: r.destination } }))}
        />
        <BarTable
          id="an-pn"
          title={m("prenotifications")}
          head={m("prenotifications")}
          onDrill={onDrill}
          rows={(
            [
              ["pn_sent", pn.sent],
              ["pn_acknowledged", pn.acknowledged],
              ["pn_before_eta", pn.acknowledged_before_eta],
              ["pn_arrived", pn.arrived],
              ["pn_discrepancy", pn.discrepancies.prenotifications_with_discrepancy],
              ["pn_overdue", pn.overdue],
            ] as [Key, number][]
          ).map(([key, n]) => ({ key, label: m(key), n }))}
        />
        {moreSections(table, lang)
          .filter((s) => s.rows.length > 0)
          .map((s) => (
          <BarTable key={s.id} id={s.id} title={s.title} head={s.head} rows={s.rows} onDrill={onDrill} />
        ))}
      </div>
      <section aria-labelledby="an-missing" class="an-missing">
        <h3 id="an-missing">{missing ? m("not_counted", { n: String(missing) }) : m("all_counted")}</h3>
        {missing > 0 && <p>{m("not_counted_lead")}</p>}
        <ul>
          {table.not_counted.map((r) => (
            <li key={`${r.what}:${r.reason}`} dir="auto" data-what={r.what}>
              {m("not_counted_row", { what: WHAT_KEYS.has(`what_${r.what}`) ? m(`what_${r.what}` as Key) : r.what, reason: r.reason, n: String(r.count) })}
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}

function GroupAnalytics({ group }: { group: GroupSummary }) {
  const { stage, items, error } = useGroupRecords(group);
  const [filters, setFilters] = useState({ region: "", category: "", from: "", to: "", phase: "", phases: "" });
  const [drill, setDrill] = useState<{ d: Drill; label: string } | null>(null);

  const phased = useMemo(() => parsePhases(filters.phases), [filters.phases]);
  const params = useMemo<Params>(() => periodParams({ ...filters, phases: phased.phases, nowMs: Date.now() }), [filters.from, filters.to, filters.phase, phased, items]);
  const narrowed = useMemo(() => narrowArchive(items, { region: filters.region || null, category: filters.category || null }), [items, filters.region, filters.category]);
  const table = useMemo(() => analyse(narrowed, params), [narrowed, params]);

  if (stage === "not_pinned") return <Notice>{m("not_pinned")}</Notice>;
  if (stage === "not_admitted") return <Notice>{m("waiting")}</Notice>;
  if (stage === "loading") return <ErrorLine error={error} />;
  const lang = language.value;
  const set = (key: keyof typeof filters) => (e: Event) => setFilters({ ...filters, [key]: (e.currentTarget as HTMLInputElement).value });
  return (
    <section class="group analytics" aria-labelledby="an-group">
      <h2 id="an-group">{group.name}</h2>
      <ErrorLine error={error} />
      <p class="hint" role="status">
        {m("computed", { n: String(items.filter((i) => i.valid).length) })}
      </p>
      <fieldset class="filters">
        <legend>{m("filters")}</legend>
        <label>
          {m("region")}
          <select value={filters.region} onChange={set("region")}>
            <option value="">{m("any")}</option>
            {codes("regions").map((r) => (
              <option key={r} value={r}>
                {codeLabel("regions", r, lang)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {m("category")}
          <select value={filters.category} onChange={set("category")}>
            <option value="">{m("any")}</option>
            {codes("goods_categories").map((c) => (
              <option key={c} value={c}>
                {codeLabel("goods_categories", c, lang)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {m("phase")}
          <select value={filters.phase} onChange={set("phase")}>
            <option value="">{m("whole_period")}</option>
            {phased.phases.map((p) => (
              <option key={p.name} value={p.name}>
                {`${p.name} (${p.start} – ${p.end})`}
              </option>
            ))}
          </select>
        </label>
        <label>
          {m("from")}
          <input type="date" value={filters.from} onChange={set("from")} disabled={!!params.phase} />
        </label>
        <label>
          {m("to")}
          <input type="date" value={filters.to} onChange={set("to")} disabled={!!params.phase} />
        </label>
        <label class="an-phases">
          {m("phases_input")}
          <textarea rows={3} value={filters.phases} onChange={set("phases")} aria-describedby={phased.bad.length ? "an-phases-bad" : undefined} />
        </label>
        {phased.bad.length > 0 && (
          <p id="an-phases-bad" class="error" role="alert">
            {m("phases_bad", { lines: phased.bad.join(", ") })}
          </p>
        )}
      </fieldset>
      <Dashboard
        table={table}
        groupId={group.id}
        items={narrowed}
        params={params}
        drill={drill}
        closeDrill={() => setDrill(null)}
        onDrill={(d, label) => {
          setDrill({ d, label });
          requestAnimationFrame(() => document.getElementById("an-drill")?.focus());
        }}
      />
    </section>
  );
}

function AnalyticsGroups() {
  const { query } = useLocation();
  return (
    <GroupPicker label={m("groups")} empty={m("no_groups")} initial={query.group ?? null}>
      {(group) => <GroupAnalytics key={group.id} group={group} />}
    </GroupPicker>
  );
}

export function AnalyticsScreen() {
  return (
    <section>
      <ScreenTitle>{m("title")}</ScreenTitle>
      {vault.value ? (
        <>
          <LinkBanner />
          <AnalyticsGroups />
        </>
      ) : (
        <KeystoreGate />
      )}
    </section>
  );
}
