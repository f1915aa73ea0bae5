/** The group's document library: browse by category, versions, download and verify, and for
 * coordinators publish (resumable after a reload) and withdraw. A document that fails any
 * check is a blocking warning, never content. */
import { useEffect, useId, useState } from "preact/hooks";
import "./library.css";
import { ErrorLine, Notice, ScreenTitle } from "../app/ui";
import { session } from "../auth/session";
import { CATEGORIES, CryptoError, KeyUnavailableError } from "../crypto";
import { certifySelf, type GroupChannel, type GroupSummary, isPinned } from "../feed/engine";
import { GroupPicker } from "../groups/GroupPicker";
import { groupChannel, KeystoreGate, vault } from "../feed/unlock";
import { type Described, describeError, formatDate, language } from "../i18n";
import { listDocuments, listVersions, received, type RemoteDocument, type RemoteVersion, withdraw } from "./api";
import { download, heldKey, type Opened, openManifest } from "./download";
import { formatSize, tl } from "./messages";
import { abandon, mayPublish, pendingUploads, publish, segmentCount, type UploadRecord } from "./uploads";

type Category = (typeof CATEGORIES)[number];
const categoryLabel = (c: string) => tl(`cat_${c as Category}`);
const size = (n: number) => formatSize(n, language.value);
type NoticeKey = "resumed" | "gone" | "published_already" | "published_ok";

/** A refusal the protocol defines (tampered, forged, unauthorised): blocking, plain words. */
const isRefusal = (error: unknown) => error instanceof CryptoError && !(error instanceof KeyUnavailableError);

function describe(error: unknown): Described {
  if (error instanceof CryptoError) return { message: error.message, code: error.code };
  return describeError(error);
}

function Refusal({ error }: { error: unknown }) {
  const code = error instanceof CryptoError ? `${error.code}: ${error.message}` : String(error);
  return (
    <div class="refusal" role="alert" data-testid="library-refusal">
      <strong>{tl("refused_title")}</strong>
      <p>{tl("refused_body")}</p>
      <p class="code" dir="ltr">
        {code}
      </p>
    </div>
  );
}

function Bar({ label, done, total }: { label: string; done: number; total: number }) {
  const id = useId();
  return (
    <div class="transfer">
      <label for={id}>{label}</label>
      <progress id={id} max={Math.max(total, 1)} value={done} />
      <span data-testid="progress-text">{tl("progress_text", { done: size(done), total: size(total) })}</span>
    </div>
  );
}

/**
 * How many document keys this device holds, passed down so that a key arriving on the live feed
 * re-renders the rows: @preact/signals' `shouldComponentUpdate` skips a child whose props did
 * not change, so a parent's re-render alone never reaches a row waiting for its key.
 */
type HeldKeys = { heldKeys: number };

/** One version: verified before its name is shown, downloaded and verified on request. */
function VersionItem({ channel, doc, remote }: { channel: GroupChannel; doc: RemoteDocument; remote: RemoteVersion } & HeldKeys) {
  const key = heldKey(channel, doc.id, remote.version);
  const [opened, setOpened] = useState<Opened | null>(null);
  const [refused, setRefused] = useState<unknown>(null);
  const [error, setError] = useState<Described | null>(null);
  const [progress, setProgress] = useState<[number, number] | null>(null);
  const [saved, setSaved] = useState<{ url: string; name: string } | null>(null);
  useEffect(() => {
    if (!key) return;
    let live = true;
    openManifest(channel, remote, key, doc.category).then(
      (o) => live && setOpened(o),
      (e) => live && (isRefusal(e) ? setRefused(e) : setError(describe(e))),
    );
    return () => void (live = false);
  }, [key !== null, remote]); // a refresh checks the manifest the server serves now
  useEffect(() => () => saved && URL.revokeObjectURL(saved.url), [saved]);

  async function fetchIt() {
    setError(null);
    setSaved(null);
    setProgress([0, remote.plainSize]);
    try {
      const got = await download(channel, doc.id, remote.version, (d, t) => setProgress([d, t]));
      setSaved({ url: URL.createObjectURL(got.blob), name: got.name });
    } catch (failure) {
      if (isRefusal(failure)) setRefused(failure);
      else setError(describe(failure));
    } finally {
      setProgress(null);
    }
  }

  return (
    <div class="version" data-version={remote.version}>
      <p class="meta">
        {tl("version", { n: String(remote.version) })} · {tl("published", { date: formatDate(remote.publishedAt) })} · {size(remote.plainSize)}
      </p>
      {doc.withdrawn && <p>{tl("withdrawn")}</p>}
      {refused !== null ? (
        <Refusal error={refused} />
      ) : doc.withdrawn ? null : !key ? (
        <p class="hint">{tl("no_key")}</p>
      ) : (
        <>
          {opened && (
            <p class="doc-name" dir="auto" data-testid="document-name">
              {opened.name}
            </p>
          )}
          {progress ? (
            <Bar label={tl("download_progress")} done={progress[0]} total={progress[1]} />
          ) : saved ? (
            <p>
              <span class="verified">{tl("verified")}</span>{" "}
              <a href={saved.url} download={saved.name} class="button">
                {tl("save", { name: saved.name })}
              </a>
            </p>
          ) : (
            <button type="button" onClick={() => void fetchIt()} disabled={!opened}>
              {tl("download")}
            </button>
          )}
        </>
      )}
      <ErrorLine error={error} />
    </div>
  );
}

function DocumentRow({ channel, doc, coordinator, onChange, heldKeys }: { channel: GroupChannel; doc: RemoteDocument; coordinator: boolean; onChange: () => void } & HeldKeys) {
  const [versions, setVersions] = useState<RemoteVersion[] | null>(null);
  const [adding, setAdding] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<Described | null>(null);
  const latest = doc.latest;
  async function loadVersions() {
    try {
      setVersions((await listVersions(channel.groupId, doc.id)).reverse());
    } catch (failure) {
      setError(describe(failure));
    }
  }
  const toggleVersions = () => (versions ? setVersions(null) : loadVersions());
  // A refresh lists what the server serves now: open versions are read (and checked) again.
  useEffect(() => void (versions && loadVersions()), [doc]);
  async function withdrawIt() {
    try {
      await withdraw(channel.groupId, doc.id);
      onChange();
    } catch (failure) {
      setError(describe(failure));
    }
  }
  return (
    <li class={doc.withdrawn ? "document withdrawn" : "document"} data-document={doc.id}>
      <p class="category">{categoryLabel(doc.category)}</p>
      {versions ? versions.map((v) => <VersionItem key={v.version} channel={channel} doc={doc} remote={v} heldKeys={heldKeys} />) : latest && <VersionItem channel={channel} doc={doc} remote={latest} heldKeys={heldKeys} />}
      <div class="actions">
        {doc.latestVersion > 1 && (
          <button type="button" class="secondary" onClick={() => void toggleVersions()} aria-expanded={versions ? "true" : "false"}>
            {tl(versions ? "hide_versions" : "versions")}
          </button>
        )}
        {coordinator && !doc.withdrawn && (
          <>
            <button type="button" class="secondary" onClick={() => setAdding(!adding)} aria-expanded={adding ? "true" : "false"}>
              {tl("new_version")}
            </button>
            <button type="button" class="danger" onClick={() => setConfirming(true)} aria-expanded={confirming ? "true" : "false"}>
              {tl("withdraw")}
            </button>
          </>
        )}
      </div>
      {confirming && (
        <div class="confirm" role="group" aria-label={tl("withdraw")}>
          <p>{tl("withdraw_question")}</p>
          <div class="actions">
            <button type="button" class="danger" onClick={() => void withdrawIt()}>
              {tl("withdraw_confirm")}
            </button>
            <button type="button" class="secondary" onClick={() => setConfirming(false)}>
              {tl("cancel")}
            </button>
          </div>
        </div>
      )}
      <ErrorLine error={error} />
      {adding && (
        <PublishForm
          channel={channel}
          title={tl("new_version_title", { n: String(doc.latestVersion + 1), name: categoryLabel(doc.category) })}
          next={{ documentId: doc.id, version: doc.latestVersion + 1, category: doc.category }}
          onDone={onChange}
        />
      )}
    </li>
  );
}

/** Uploads a reload interrupted, from the sealed keystore; the server says how far each got. */
function PendingUploads({ channel, records, onChange }: { channel: GroupChannel; records: UploadRecord[]; onChange: () => void }) {
  const [have, setHave] = useState<Map<string, number>>(new Map());
  useEffect(() => {
    let live = true;
    void Promise.all(records.map(async (r) => [r.uploadId, (await received(r.uploadId).catch(() => new Set())).size] as const)).then((rows) => live && setHave(new Map(rows)));
    return () => void (live = false);
  }, [records.map((r) => r.uploadId).join()]);
  if (!records.length) return null;
  return (
    <section class="card pending" aria-labelledby="pending-title">
      <h3 id="pending-title">{tl("pending_title")}</h3>
      <p>{tl("pending_hint")}</p>
      <ul>
        {records.map((r) => (
          <li key={r.uploadId} data-testid="pending-upload">
            <span dir="auto">
              {tl("pending_item", { name: r.fileName, size: size(r.fileSize), have: String(have.get(r.uploadId) ?? 0), total: String(segmentCount(r)) })}
            </span>{" "}
            <button type="button" class="secondary" onClick={() => void abandon(channel, r).then(onChange)}>
              {tl("abandon")}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function PublishForm({ channel, title, next, onDone }: { channel: GroupChannel; title: string; next?: { documentId: string; version: number; category: string }; onDone: () => void }) {
  const fileId = useId();
  const [file, setFile] = useState<File | null>(null);
  const [category, setCategory] = useState<string>(next?.category ?? "newsletter");
  const [progress, setProgress] = useState<[number, number] | null>(null);
  // Kept as a key, so a language switch re-words it.
  const [notice, setNotice] = useState<[NoticeKey, Record<string, string>?] | null>(null);
  const [error, setError] = useState<Described | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit(event: Event) {
    event.preventDefault();
    if (!file) return;
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      await publish(channel, { file, category, ...(next ? { documentId: next.documentId, version: next.version } : {}) }, (d, t) => setProgress([d, t]), (what, values) => setNotice([what, values]));
      setNotice(["published_ok"]);
      setFile(null);
      (event.target as HTMLFormElement).reset();
      onDone();
    } catch (failure) {
      setError(describe(failure));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form class="card publish" onSubmit={submit}>
      <h3>{title}</h3>
      <div class="field">
        <label for={fileId}>{tl("file")}</label>
        <input id={fileId} type="file" name="file" required aria-describedby={`${fileId}-hint`} onChange={(e) => setFile((e.currentTarget as HTMLInputElement).files?.[0] ?? null)} />
        <p class="hint" id={`${fileId}-hint`}>
          {tl("file_hint")}
        </p>
      </div>
      {!next && <CategorySelect value={category} onChange={setCategory} withAll={false} />}
      {progress && <Bar label={tl("upload_progress")} done={progress[0]} total={progress[1]} />}
      {notice && <Notice>{tl(...notice)}</Notice>}
      <ErrorLine error={error} />
      <button type="submit" disabled={busy || !file}>
        {tl("publish_submit")}
      </button>
    </form>
  );
}

function CategorySelect({ value, onChange, withAll }: { value: string; onChange: (v: string) => void; withAll: boolean }) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{tl("category")}</label>
      <select id={id} value={value} onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value)}>
        {withAll && <option value="">{tl("all_categories")}</option>}
        {CATEGORIES.map((c) => (
          <option key={c} value={c}>
            {categoryLabel(c)}
          </option>
        ))}
      </select>
    </div>
  );
}

function GroupLibrary({ group }: { group: GroupSummary }) {
  const v = vault.value!;
  const [stage, setStage] = useState<"loading" | "not_pinned" | "not_admitted" | "ready">("loading");
  const [channel, setChannel] = useState<GroupChannel | null>(null);
  const [category, setCategory] = useState("");
  const [documents, setDocuments] = useState<RemoteDocument[] | null>(null);
  const [error, setError] = useState<Described | null>(null);
  const [, setTick] = useState(0);

  async function open() {
    if (!isPinned(v, group.id)) return setStage("not_pinned");
    try {
      if ((await certifySelf(v, group.id, session.value!.user.id)) === "not_admitted") return setStage("not_admitted");
      const found = await groupChannel(group.id)!;
      await found.refresh();
      setChannel(found);
      setStage("ready");
    } catch (failure) {
      setError(describe(failure));
    }
  }
  async function load() {
    setError(null);
    try {
      setDocuments(await listDocuments(group.id, category || null));
    } catch (failure) {
      setError(describe(failure));
    }
  }
  useEffect(() => void open(), [group.id]);
  useEffect(() => void (stage === "ready" && load()), [stage, category]);
  // Keys arrive on the live feed in the background: look again while any is missing.
  const missing = channel && documents?.some((d) => d.latest && !d.withdrawn && !heldKey(channel, d.id, d.latestVersion));
  useEffect(() => {
    if (!missing) return;
    const timer = setInterval(() => setTick((n) => n + 1), 1000);
    return () => clearInterval(timer);
  }, [missing]);

  const coordinator = channel !== null && mayPublish(channel);
  const refresh = () => {
    setTick((n) => n + 1);
    void load();
  };
  return (
    <section aria-labelledby="library-group" class="group library">
      <h2 id="library-group">{group.name}</h2>
      <ErrorLine error={error} />
      {stage === "not_pinned" && <Notice>{tl("not_pinned")}</Notice>}
      {stage === "not_admitted" && <Notice>{tl("not_admitted")}</Notice>}
      {stage === "ready" && channel && (
        <>
          <div class="library-tools">
            <CategorySelect value={category} onChange={setCategory} withAll />
            <button type="button" class="secondary" onClick={refresh}>
              {tl("refresh")}
            </button>
          </div>
          <h3>{tl("documents")}</h3>
          {documents && documents.length === 0 && <p>{tl("no_documents")}</p>}
          <ul class="documents">
            {documents?.map((d) => <DocumentRow key={`${d.id}/${d.latestVersion}/${d.withdrawn}`} channel={channel} doc={d} coordinator={coordinator} onChange={refresh} heldKeys={channel.session.documentKeys.size} />)}
          </ul>
          {coordinator ? (
            <>
              <PendingUploads channel={channel} records={pendingUploads(channel)} onChange={refresh} />
              <PublishForm channel={channel} title={tl("publish_title")} onDone={refresh} />
            </>
          ) : (
            <p class="hint">{tl("coordinators_only")}</p>
          )}
        </>
      )}
    </section>
  );
}

function Groups() {
  return (
    <GroupPicker label={tl("groups")} empty={tl("no_groups")} none={<p>{tl("pick_group")}</p>}>
      {(group) => <GroupLibrary key={group.id} group={group} />}
    </GroupPicker>
  );
}

export function LibraryScreen() {
  return (
    <section>
      <ScreenTitle>{tl("title")}</ScreenTitle>
      {vault.value ? <Groups /> : <KeystoreGate />}
    </section>
  );
}
