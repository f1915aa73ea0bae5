/**
 * One case: its latest (or a chosen) version laid out with the template's labels and code
 * lists in the officer's language, earlier versions, the thread (replies, coordinator
 * reviews), refused thread items as blocking warnings, and the actions this member may take.
 */
import { Fragment } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ErrorLine } from "../app/ui";
import { type Described, formatDate, language } from "../i18n";
import { codeLabel, type Json, type JsonObject, type Template } from "../records/templates";
import { type CaseView, type Item, REVIEW, VERDICTS } from "../records/view";
import { drafts, useDraft } from "../storage/drafts";
import { CaseForm } from "./CaseForm";
import { dottedPath, kindOf, type Path } from "./form";
import { type CasesKey, casesMsg } from "./messages";

export const statusKey = (status: string): CasesKey => (["unreviewed", "verified", "corrections_requested", "amended"].includes(status) ? (`cases.status_${status}` as CasesKey) : "cases.status_unreviewed");

export function StatusBadge({ status }: { status: string }) {
  return (
    <span class={`badge status-${status}`} data-status={status}>
      {casesMsg(statusKey(status))}
    </span>
  );
}

/** A refused item: the reason for support, never its content. */
export function RefusedWarning({ item, title }: { item: Item; title: string }) {
  return (
    <div class="item refused" data-seq={item.seq}>
      <div role="alert">
        <strong>{title}</strong>
        <p>{casesMsg(item.error?.startsWith("granted item seq ") ? "cases.refused_history" : "cases.refused_body")}</p>
        <p class="code" dir="ltr">
          {item.error}
        </p>
      </div>
    </div>
  );
}

function value(node: JsonObject, v: Json, lang: string): string {
  const shape = kindOf(node);
  if ((shape.kind === "code" || shape.kind === "codes") && shape.vocab) {
    const list = Array.isArray(v) ? v : [v];
    return list.map((c) => `${codeLabel(shape.vocab!, c, lang)} (${String(c)})`).join(", ");
  }
  if (Array.isArray(v)) return v.map(String).join(", ");
  if (v === true) return casesMsg("cases.yes");
  if (v === false) return casesMsg("cases.no");
  return String(v);
}

/** The case data as labelled sections, following the template's schema. */
function DataView({ template, form, data }: { template: Template; form: string | null; data: JsonObject }) {
  const lang = language.value;
  function object(node: JsonObject, path: Path, obj: JsonObject) {
    const shape = kindOf(node);
    if (shape.kind !== "object") return null;
    const rows = shape.properties.filter(([name]) => obj[name] !== undefined);
    return (
      <dl class="case-data">
        {rows.map(([name, sub]) => {
          const here = [...path, name];
          const label = template.label(dottedPath(here), lang);
          const k = kindOf(sub);
          const v = obj[name] as Json;
          if (k.kind === "object" && v && typeof v === "object" && !Array.isArray(v)) {
            return (
              <Fragment key={name}>
                <dt>{label}</dt>
                <dd>{object(sub, here, v)}</dd>
              </Fragment>
            );
          }
          if (k.kind === "objects" && Array.isArray(v)) {
            return (
              <Fragment key={name}>
                <dt>{label}</dt>
                <dd>
                  <ol class="entries">
                    {v.map((entry, i) => (
                      <li key={i}>{entry && typeof entry === "object" && !Array.isArray(entry) ? object(k.item, [...here, i], entry) : null}</li>
                    ))}
                  </ol>
                </dd>
              </Fragment>
            );
          }
          return (
            <Fragment key={name}>
              <dt>{label}</dt>
              <dd dir="auto">{value(sub, v, lang)}</dd>
            </Fragment>
          );
        })}
      </dl>
    );
  }
  return object(template.schema(form), [], data);
}

export interface CaseActions {
  /** `parentSeq` is the reply this one answers, or null for the case itself. */
  reply(text: string, parentSeq: number | null): Promise<void>;
  review(verdict: string, note: string | null): Promise<void>;
  amend(form: string, data: Json): Promise<void>;
}

interface ThreadNode {
  item: Item;
  children: ThreadNode[];
}

/**
 * The case's replies and reviews as a tree, oldest first at each level: an item sits under
 * the reply it answers when that reply came earlier and is in this thread, else under the
 * case itself (so a forged parent_seq can neither loop nor hide an item), as the feed does.
 */
export function threadTree(items: readonly Item[]): ThreadNode[] {
  const sorted = [...items].sort((a, b) => a.seq - b.seq);
  const nodes = new Map<number, ThreadNode>();
  const top: ThreadNode[] = [];
  for (const item of sorted) {
    const node = { item, children: [] };
    const parent = item.parent_seq != null && item.parent_seq < item.seq ? nodes.get(item.parent_seq) : undefined;
    (parent ? parent.children : top).push(node);
    nodes.set(item.seq, node);
  }
  return top;
}

interface AmendDraft {
  form: string;
  data: Json;
}

/** The amendment form, restored from its encrypted draft (read once before the form mounts). */
function AmendForm(props: { draftId: string; template: Template; latest: Item; data: Json; onCancel: () => void; onSubmit: (form: string, data: Json) => Promise<void> }) {
  const draft = useDraft<AmendDraft | null>(props.draftId, null);
  const [restored, setRestored] = useState<AmendDraft | null | undefined>(drafts.value ? undefined : null);
  useEffect(() => {
    const store = drafts.value;
    if (!store) return;
    void store.load<AmendDraft>(props.draftId).then(
      (found) => setRestored(found),
      () => setRestored(null),
    );
  }, [props.draftId]);
  if (restored === undefined) return null;
  const form = restored?.form ?? (typeof props.latest.template?.form === "string" ? props.latest.template.form : null);
  return (
    <>
      <CaseForm
        template={props.template}
        title={casesMsg("cases.amend_title", { seq: String(props.latest.seq) })}
        submitLabel={casesMsg("cases.amend_send")}
        initialForm={form}
        initialData={restored?.data ?? props.data}
        onChange={(f, data) => draft.set({ form: f, data })}
        onCancel={props.onCancel}
        onSubmit={async (f, data) => {
          await props.onSubmit(f, data);
          await draft.discard();
        }}
      />
      <p class="hint" role="status">
        {draft.state === "saved" ? casesMsg("cases.draft_kept") : ""}
      </p>
    </>
  );
}

export function CaseDetail(props: { draftId: string; view: CaseView; template: (item: Item) => Template | null; mine: boolean; coordinator: boolean; nameOf: (id: string | null) => string; actions: CaseActions; onBack: () => void }) {
  const { view } = props;
  /** The version shown: null follows the latest (a new amendment shows at once). */
  const [picked, setPicked] = useState<number | null>(null);
  const [replyText, setReplyText] = useState("");
  const [replyTo, setReplyTo] = useState<number | null>(null);
  const [verdict, setVerdict] = useState<string>(VERDICTS[0]);
  const [note, setNote] = useState("");
  const [amending, setAmending] = useState(false);
  const [error, setError] = useState<Described | null>(null);
  const [busy, setBusy] = useState(false);
  const version = view.versions[picked === null ? view.versions.length - 1 : Math.min(picked, view.versions.length - 1)]!;
  const template = props.template(version);
  const thread = threadTree([...view.replies, ...view.reviews]);

  async function act(run: () => Promise<void>) {
    setBusy(true);
    setError(null);
    try {
      await run();
    } catch (failure) {
      const err = failure as Error;
      setError({ message: err.message, code: "code" in err ? String((err as { code: unknown }).code) : null });
    } finally {
      setBusy(false);
    }
  }

  if (amending) {
    const latest = view.versions[view.versions.length - 1]!;
    const tpl = props.template(latest);
    if (tpl) {
      return (
        <AmendForm
          draftId={props.draftId}
          template={tpl}
          latest={{ ...latest, seq: view.seq }}
          data={view.data as Json}
          onCancel={() => setAmending(false)}
          onSubmit={async (form, data) => {
            await props.actions.amend(form, data);
            setAmending(false);
            setPicked(null);
          }}
        />
      );
    }
  }

  function node({ item, children }: ThreadNode) {
    return (
      <li key={item.seq} class={item.type === REVIEW ? "item review" : "item"} data-seq={item.seq}>
        {item.type === REVIEW ? (
          <p>
            <strong>{casesMsg("cases.review_by", { who: props.nameOf(item.sender_user_id), verdict: casesMsg(statusKey(String(item.data?.verdict))) })}</strong>
            {typeof item.data?.note === "string" && <span dir="auto"> — {item.data.note}</span>}
          </p>
        ) : (
          <p class="text" dir="auto">
            {String(item.data?.text ?? "")}
          </p>
        )}
        <p class="meta">
          {props.nameOf(item.sender_user_id)} · {item.sent_at && formatDate(item.sent_at)}{" "}
          {item.type !== REVIEW && (
            <button type="button" class="link" onClick={() => setReplyTo(item.seq)}>
              {casesMsg("cases.reply_to_this")}
            </button>
          )}
        </p>
        {children.length > 0 && <ol class="replies">{children.map(node)}</ol>}
      </li>
    );
  }

  return (
    <article class="case-detail" aria-labelledby="case-title" data-case={view.seq}>
      <button type="button" class="link back" onClick={props.onBack}>
        {casesMsg("cases.back")}
      </button>
      <h2 id="case-title">
        {casesMsg("cases.case_title", { seq: String(view.seq) })} <StatusBadge status={view.status} />
      </h2>
      <p class="meta">
        {casesMsg("cases.sent_by", { who: props.mine ? casesMsg("cases.mine") : props.nameOf(view.original.sender_user_id) })}
        {view.original.sent_at && ` · ${formatDate(view.original.sent_at)}`} · <span data-testid="case-version">{casesMsg("cases.version_of", { n: String(view.versions.indexOf(version) + 1), total: String(view.versions.length) })}</span>
      </p>
      {view.versions.length > 1 && (
        <nav aria-label={casesMsg("cases.versions")} class="versions">
          {view.versions.map((v, i) => (
            <button key={v.seq} type="button" class="secondary" aria-pressed={v === version ? "true" : "false"} onClick={() => setPicked(i === view.versions.length - 1 ? null : i)}>
              {casesMsg("cases.version_item", { n: String(i + 1), seq: String(v.seq) })}
            </button>
          ))}
        </nav>
      )}
      {view.refused.map((item) => (
        <RefusedWarning key={item.seq} item={item} title={casesMsg("cases.refused_in_case", { seq: String(item.seq) })} />
      ))}
      {template && version.data && <DataView template={template} form={typeof version.template?.form === "string" ? version.template.form : null} data={version.data as JsonObject} />}
      <section aria-labelledby="thread-title" class="thread">
        <h3 id="thread-title">{casesMsg("cases.thread")}</h3>
        {thread.length === 0 && <p>{casesMsg("cases.no_thread")}</p>}
        <ol class="feed">{thread.map(node)}</ol>
      </section>
      <ErrorLine error={error} />
      <form
        class="card"
        onSubmit={(e) => {
          e.preventDefault();
          void act(async () => {
            await props.actions.reply(replyText, replyTo);
            setReplyText("");
            setReplyTo(null);
          });
        }}
      >
        {replyTo !== null && (
          <p class="meta">
            {casesMsg("cases.replying_to", { seq: String(replyTo) })}{" "}
            <button type="button" class="link" onClick={() => setReplyTo(null)}>
              {casesMsg("cases.reply_to_case")}
            </button>
          </p>
        )}
        <label for="case-reply">{casesMsg("cases.reply")}</label>
        <textarea id="case-reply" name="reply" dir="auto" value={replyText} required maxLength={10000} onInput={(e) => setReplyText(e.currentTarget.value)} />
        <button type="submit" disabled={busy || !replyText.trim()}>
          {casesMsg("cases.reply_send")}
        </button>
      </form>
      {props.coordinator && (
        <form
          class="card"
          onSubmit={(e) => {
            e.preventDefault();
            void act(async () => {
              await props.actions.review(verdict, note.trim() || null);
              setNote("");
            });
          }}
        >
          <h3>{casesMsg("cases.review")}</h3>
          <label for="case-verdict">{casesMsg("cases.verdict")}</label>
          <select id="case-verdict" value={verdict} onChange={(e) => setVerdict(e.currentTarget.value)}>
            {VERDICTS.map((v) => (
              <option key={v} value={v}>
                {casesMsg(statusKey(v))}
              </option>
            ))}
          </select>
          <label for="case-note">{casesMsg("cases.note")}</label>
          <textarea id="case-note" dir="auto" value={note} onInput={(e) => setNote(e.currentTarget.value)} />
          <button type="submit" disabled={busy}>
            {casesMsg("cases.review_send")}
          </button>
        </form>
      )}
      {props.mine && (
        <button type="button" onClick={() => setAmending(true)}>
          {casesMsg("cases.amend")}
        </button>
      )}
    </article>
  );
}
