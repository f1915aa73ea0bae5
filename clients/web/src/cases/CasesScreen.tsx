/**
 * Seizure cases of a group (route `/cases`, a lazy chunk like the alerts): the keystore
 * unlock shared with the alerts, then per group the list with filters, a new case from the
 * group's signed template, and a case's detail with its thread, amendments and coordinator
 * review. Items come from the records layer (`src/records`): validated against their
 * template after decryption; anything refused is a blocking warning, never content.
 */
import { useLocation } from "preact-iso";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ErrorLine, Notice, ScreenTitle } from "../app/ui";
import { fromUtf8, utf8 } from "../crypto";
import type { GroupSummary } from "../feed/engine";
import { GroupPicker } from "../groups/GroupPicker";
import { fetchNames, memberLabel, type MemberName } from "../feed/names";
import { describe, KeystoreGate, LinkBanner, liveFeed, vault } from "../feed/unlock";
import { language, t } from "../i18n";
import { coordinators, loadGroupTemplates } from "../records/store";
import { useGroupRecords } from "../records/useGroupRecords";
import { codeLabel, type Json, type Template, vocabularies } from "../records/templates";
import { buildCases, type CaseView, caseCountries, filterCases, type Item, threadRoot } from "../records/view";
import { CaseDetail, RefusedWarning, StatusBadge, statusKey } from "./CaseDetail";
import { CaseForm } from "./CaseForm";
import { casesMsg } from "./messages";
import { amendCase, postCase, reply, reviewCase } from "./operations";
import "./cases.css";

const draftName = (groupId: string) => `case-draft:${groupId}`;
const STATUSES = ["unreviewed", "verified", "corrections_requested", "amended"];

type Mode = { screen: "list" } | { screen: "new" } | { screen: "case"; seq: number };

function CaseRow({ view, nameOf, onOpen }: { view: CaseView; nameOf: (id: string | null) => string; onOpen: () => void }) {
  const lang = language.value;
  const data = view.data;
  const report = (Array.isArray(data.reports) ? data.reports[0] : null) as Record<string, unknown> | null;
  const items = Array.isArray(report?.items) ? report.items.length : 0;
  return (
    <li class="case-row" data-case={view.seq}>
      <button type="button" class="case-open" onClick={onOpen}>
        <span class="case-head">
          <strong>{casesMsg("cases.case_title", { seq: String(view.seq) })}</strong> <StatusBadge status={view.status} />
        </span>
        <span class="case-line" dir="auto">
          {codeLabel("countries", data.reporting_country, lang)}
          {report?.seizure_date ? ` · ${String(report.seizure_date)}` : ""}
          {report?.place_type ? ` · ${codeLabel("place_types", report.place_type, lang)}` : ""}
          {` · ${casesMsg("cases.items_count", { n: String(items) })}`}
        </span>
        <span class="meta">
          {nameOf(view.original.sender_user_id)} · {casesMsg("cases.version_of", { n: String(view.versions.length), total: String(view.versions.length) })}
        </span>
      </button>
    </li>
  );
}

function GroupCases({ group, initialSeq }: { group: GroupSummary; initialSeq: number | null }) {
  const [isCoordinator, setCoordinator] = useState(false);
  const [names, setNames] = useState<Map<string, MemberName>>(new Map());
  const [refusedTemplates, setRefusedTemplates] = useState<string[]>([]);
  const { me, ctx, registry, stage, items, reread, error, setError } = useGroupRecords(group, {
    async opened(channel) {
      const roster = channel.session.roster;
      setCoordinator(coordinators(roster).has(me));
      setRefusedTemplates(await loadGroupTemplates(ctx, group.id, registry, roster));
    },
    ready: (channel) => void fetchNames(group.id, channel.session.roster.members.keys()).then(setNames),
  });
  const [mode, setMode] = useState<Mode>({ screen: "list" });
  const [filters, setFilters] = useState<{ status: string; country: string; handling: string }>({ status: "", country: "", handling: "" });
  const [notice, setNotice] = useState<string | null>(null);
  const [draftSaved, setDraftSaved] = useState(false);
  /** A typed change not yet sealed in the keystore: "draft kept" is not claimed meanwhile. */
  const [draftPending, setDraftPending] = useState(false);
  const draftTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const pendingSeq = useRef(initialSeq);

  const cases = useMemo(() => buildCases(items), [items]);
  useEffect(() => {
    // A link from the alerts feed names an item: open the case it belongs to.
    const wanted = pendingSeq.current;
    if (wanted === null || !items.length) return;
    const root = threadRoot(new Map(items.map((i) => [i.seq, i])), wanted);
    if (cases.some((c) => c.seq === root)) {
      pendingSeq.current = null;
      setMode({ screen: "case", seq: root });
    }
  }, [cases]);

  const nameOf = (id: string | null) => (id === me ? casesMsg("cases.mine") : id ? memberLabel(id, names.get(id)) : "?");
  const templateOf = (item: Item): Template | null => {
    try {
      return registry.get(String(item.template?.id), Number(item.template?.version));
    } catch {
      return null;
    }
  };
  const attached = new Set(cases.flatMap((c) => c.refused.map((i) => i.seq)));
  // Refused items that name no valid case (a tampered or forged case, a broken form): warnings.
  const refused = items.filter((i) => !i.valid && (i.kind === "alert" || i.kind === "chat") && !attached.has(i.seq));
  const shown = filterCases(cases, { status: filters.status ? [filters.status] : null, country: filters.country || null, handlingCode: filters.handling || null }).sort((a, b) => b.seq - a.seq);
  const countries = [...new Set(cases.flatMap((c) => [...caseCountries(c.data)]).filter((c): c is string => typeof c === "string"))].sort();

  async function channel() {
    return liveFeed()!.channel(group.id);
  }

  function keepDraft(form: string, data: Json) {
    clearTimeout(draftTimer.current);
    setDraftPending(true);
    draftTimer.current = setTimeout(() => {
      // Kept in the sealed keystore: a lost connection or a reload never loses a typed case.
      ctx.secrets.set(draftName(group.id), utf8(JSON.stringify({ form, data })));
      void ctx.save().then(() => (setDraftSaved(true), setDraftPending(false)));
    }, 600);
  }
  const draftRaw = ctx.secrets.get(draftName(group.id));
  const draft = draftRaw && draftRaw.length ? (JSON.parse(fromUtf8(draftRaw)) as { form: string; data: Json }) : null;

  if (stage === "not_pinned") return <Notice>{casesMsg("cases.not_pinned")}</Notice>;
  if (stage === "not_admitted") return <Notice>{casesMsg("cases.waiting")}</Notice>;
  if (stage === "loading") return <ErrorLine error={error} />;

  const lang = language.value;
  const view = mode.screen === "case" ? cases.find((c) => c.seq === mode.seq) : undefined;
  return (
    <section class="group cases" aria-labelledby="cases-group-title">
      <h2 id="cases-group-title">{group.name}</h2>
      <ErrorLine error={error} />
      {notice && <Notice>{notice}</Notice>}
      {refusedTemplates.map((r) => (
        <p key={r} class="error" role="alert">
          {casesMsg("cases.refused_templates", { what: r })}
        </p>
      ))}
      {refused.map((item) => (
        <RefusedWarning key={item.seq} item={item} title={t("feed.refused_title", { seq: String(item.seq) })} />
      ))}
      {mode.screen === "new" && (
        <>
          <CaseForm
            template={registry.get("seizure-case")}
            title={casesMsg("cases.form_title")}
            submitLabel={casesMsg("cases.send")}
            chooseForm
            allowUrgent
            initialForm={draft?.form ?? "simplified"}
            initialData={draft?.data ?? null}
            onChange={keepDraft}
            onCancel={() => setMode({ screen: "list" })}
            onSubmit={async (form, data, urgent) => {
              setError(null);
              try {
                const item = await postCase(ctx, await channel(), registry, { form, data }, urgent);
                clearTimeout(draftTimer.current);
                setDraftPending(false);
                ctx.secrets.delete(draftName(group.id));
                await ctx.save();
                reread();
                setNotice(casesMsg("cases.sent", { seq: String(item.seq) }));
                setMode({ screen: "case", seq: item.seq });
              } catch (failure) {
                setError(describe(failure));
              }
            }}
          />
          {(draft || draftSaved) && !draftPending && (
            <p class="hint" role="status">
              {casesMsg("cases.draft_kept")}
            </p>
          )}
        </>
      )}
      {mode.screen === "case" && view && (
        <CaseDetail
          key={view.seq}
          view={view}
          template={templateOf}
          draftId={`cases/amend/${group.id}/${view.seq}`}
          mine={view.original.sender_user_id === me}
          coordinator={isCoordinator}
          nameOf={nameOf}
          onBack={() => setMode({ screen: "list" })}
          actions={{
            reply: async (text, parentSeq) => {
              await reply(ctx, await channel(), registry, parentSeq ?? view.seq, text);
              reread();
            },
            review: async (verdict, note) => {
              await reviewCase(ctx, await channel(), registry, view.seq, verdict, note);
              reread();
            },
            amend: async (form, data) => {
              await amendCase(ctx, await channel(), registry, view.seq, { form, data });
              reread();
            },
          }}
        />
      )}
      {mode.screen === "list" && (
        <>
          <button type="button" onClick={() => (setNotice(null), setMode({ screen: "new" }))}>
            {casesMsg("cases.new")}
          </button>
          <fieldset class="filters">
            <legend>{casesMsg("cases.filters")}</legend>
            <label>
              {casesMsg("cases.filter_status")}
              <select value={filters.status} onChange={(e) => setFilters({ ...filters, status: e.currentTarget.value })}>
                <option value="">{casesMsg("cases.any")}</option>
                {STATUSES.map((s) => (
                  <option key={s} value={s}>
                    {casesMsg(statusKey(s))}
                  </option>
                ))}
              </select>
            </label>
            <label>
              {casesMsg("cases.filter_country")}
              <select value={filters.country} onChange={(e) => setFilters({ ...filters, country: e.currentTarget.value })}>
                <option value="">{casesMsg("cases.any")}</option>
                {countries.map((c) => (
                  <option key={c} value={c}>
                    {codeLabel("countries", c, lang)}
                  </option>
                ))}
              </select>
            </label>
            <label>
              {casesMsg("cases.filter_handling")}
              <select value={filters.handling} onChange={(e) => setFilters({ ...filters, handling: e.currentTarget.value })}>
                <option value="">{casesMsg("cases.any")}</option>
                {(vocabularies.handling_codes ?? []).map((h) => (
                  <option key={String(h.code)} value={String(h.code)}>
                    {`${String(h.code)} · ${codeLabel("handling_codes", h.code, lang)}`}
                  </option>
                ))}
              </select>
            </label>
          </fieldset>
          <h3>{casesMsg("cases.list")}</h3>
          {shown.length === 0 && <p>{casesMsg("cases.none")}</p>}
          <ul class="case-list">
            {shown.map((c) => (
              <CaseRow key={c.seq} view={c} nameOf={nameOf} onOpen={() => (setNotice(null), setMode({ screen: "case", seq: c.seq }))} />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function CasesGroups() {
  const { query } = useLocation();
  const seq = query.seq && /^\d+$/.test(query.seq) ? Number(query.seq) : null;
  return (
    <GroupPicker label={casesMsg("cases.groups")} empty={casesMsg("cases.no_groups")} initial={query.group ?? null}>
      {(group) => <GroupCases key={group.id} group={group} initialSeq={group.id === query.group ? seq : null} />}
    </GroupPicker>
  );
}

export function CasesScreen() {
  return (
    <section>
      <ScreenTitle>{casesMsg("cases.title")}</ScreenTitle>
      {vault.value ? (
        <>
          <LinkBanner />
          <CasesGroups />
        </>
      ) : (
        <KeystoreGate />
      )}
    </section>
  );
}
