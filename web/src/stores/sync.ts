/** Sync: send the outbox, then bring the phone's copy up to date; and the state the
 * user always sees (online or not, how many records wait, the last sync, what
 * needs them).
 *
 * Two things, each on its own:
 * - the flush (`flushNow`): the user's own changes (the outbox) go out as soon as
 *   they are made while online, never queued behind a pull: a pull in progress
 *   neither blocks nor delays them (a 2G pull can take tens of seconds);
 * - the pull (`syncNow`: a flush, then a pull): the first downloads the templates,
 *   the org units in scope, the coach's coachees, the user's plans with their
 *   actions, the evidence of the caller's area (a few paged `GET /evidence?status=any`
 *   whatever the number of actions, not one request per action), and the inbox;
 *   later ones skip what has not changed (template versions already held,
 *   completed plans whose summary is the same). A pull never writes over a record
 *   the user changed meanwhile (its change waits in the outbox, or was just sent
 *   and the server's answer is already the newer copy).
 * A pull starts by itself at sign-in, when the network comes back, after a visit is
 * sent (its plan comes back; while the server is still writing it, it is looked for
 * again a few times, and a light pull follows once it is there: `followVisitPlans`), every 5 minutes, and when a live update (SSE) says
 * something changed (then a light one: the plan it names, the lists, the inbox); a flush after every change made on the phone, and on a timer
 * while something waits. */
import { signal } from "@preact/signals";
import { api } from "../api/client";
import { db, getKv, setKv, type OutboxItem } from "./db";
import * as outbox from "./outbox";
import { send } from "./transport";
import { ensureFresh, session, needsSignIn } from "./session";
import type { Evidence, Plan } from "../api/types";

export const online = signal(typeof navigator === "undefined" ? true : navigator.onLine);
export const syncing = signal(false);
export const lastSync = signal<string | null>(null);
export const lastError = signal<string | null>(null);
export const unread = signal(0);
/** Bumped whenever the local copy changes: screens re-read what they show. */
export const dataVersion = signal(0);
export const touched = () => { dataVersion.value += 1; };

const PER_PAGE = 100;
const LAST_SYNC = "sync.last";

/** Does the server answer? navigator.onLine only says there is a link (Wi-Fi with no
 * Internet, 2G with no data), and API reads may be answered by the service worker's
 * cache; /health is not cached, so this is the network's own answer. */
async function reachable(): Promise<boolean> {
  try {
    const response = await fetch("/health", { cache: "no-store" });
    return response.ok;
  } catch {
    return false;
  }
}

let pending: Promise<void> | null = null;
let again = false;
let pulling = false;
/** What the next pull reads: everything, or (after live events) the plans they name
 * and what lists tell changed (see `pull`). */
let wantFull = false;
const wantPlans = new Set<string>();

/** Pull now, after sending what waits (joins a sync already running, and runs once
 * more after it if asked meanwhile). Changes made during it do not wait for it:
 * `queue` flushes them at once (`flushNow`). */
export function syncNow(only?: { plans: string[] }): Promise<void> {
  if (only) for (const id of only.plans) wantPlans.add(id);
  else wantFull = true;
  if (pending) { again = true; return pending; }
  pending = (async () => {
    do {
      again = false;
      await syncOnce();
    } while (again);
  })().finally(() => { pending = null; });
  return pending;
}

/** How long after sending evidence or a review its plan is read again. */
const LATER_MS = 3_000;

/** How the last flush ended, for the sync that waited on it. */
type FlushEnd = "done" | "retry" | "offline" | "auth" | "nothing";

let flushing: Promise<FlushEnd> | null = null;
let flushAgain = false;

/** Send the outbox now, on its own: never behind a pull (one flush at a time; a change
 * queued during a flush goes in one more right after it). */
export function flushNow(): Promise<FlushEnd> {
  if (flushing) { flushAgain = true; return flushing; }
  flushing = (async () => {
    let end: FlushEnd;
    do {
      flushAgain = false;
      end = await flushOnce();
    } while (flushAgain && (end === "done" || end === "nothing"));
    return end;
  })().finally(() => { flushing = null; });
  return flushing;
}

async function flushOnce(): Promise<FlushEnd> {
  if (!session.value) return "nothing";
  const due = await outbox.nextDue();
  if (due === null) return "nothing";
  if (typeof navigator !== "undefined" && !navigator.onLine) {
    online.value = false;
    scheduleProbe();
    return "offline";
  }
  // Back from offline, or a visit sent (the server writes its plan from it): pull too.
  const wasOffline = !online.value;
  let pullAfter = false;
  try {
    if (!(await ensureFresh())) {
      lastError.value = needsSignIn.value ? "sign_in" : "network";
      return "auth";
    }
    let report = await outbox.flush(send, applySent);
    if (report.stopped === "auth" && (await ensureFresh(true))) {
      for (const item of report.refused) await markRefused(item);
      report = await outbox.flush(send, applySent);
    }
    for (const item of report.refused) await markRefused(item);
    const answered = report.sent.length + report.refused.length > 0;
    const visitSent = report.sent.some((i) => i.kind === "submission");
    if (visitSent) visitPlanTry = 0;
    pullAfter = visitSent || (wasOffline && answered);
    // Evidence and its review change an action on the server a moment later (the
    // planner answers their events): read those plans again once, shortly after.
    const later = report.sent.filter((i) => (i.kind === "evidence" || i.kind === "evidence.review") && i.plan_id)
      .map((i) => i.plan_id as string);
    if (later.length) setTimeout(() => { if (session.value) void syncNow({ plans: later }); }, LATER_MS);
    // navigator.onLine says only that there is a link (Wi-Fi without Internet, 2G
    // without data): a request that got no answer at all means offline too.
    if (report.stopped === "retry" && report.error === "network") {
      online.value = false;
      lastError.value = "retry";
      return "offline";
    }
    if (answered) online.value = true;
    if (report.stopped === "auth") return "auth";
    if (report.stopped === "retry") { lastError.value = "retry"; return "retry"; }
    if (lastError.value === "retry") lastError.value = null;
    return "done";
  } catch (error) {
    if (error instanceof TypeError) online.value = false; // fetch got no answer
    lastError.value = String(error);
    return "retry";
  } finally {
    touched();
    void scheduleRetry();
    // The sync that is about to pull does it; one already pulling runs once more.
    if (pullAfter && !(pending && !pulling)) void syncNow();
  }
}

/** Who is signed in: what a sync read for one person is never written after they
 * signed out (signing out deletes the database; a write would open a new one). */
const who = () => session.value?.account.id ?? null;

async function syncOnce(): Promise<void> {
  if (!session.value) return;
  const me = who();
  if (!navigator.onLine || !(await reachable())) {
    online.value = false;
    // The "online" event does not always come (a link without Internet, a browser
    // that never noticed): look again a little later, whatever it says.
    scheduleProbe();
    return;
  }
  online.value = true;
  syncing.value = true;
  try {
    if (!(await ensureFresh())) {
      lastError.value = needsSignIn.value ? "sign_in" : "network";
      return;
    }
    // Live updates before the (possibly long) flush and pull: an event that happens
    // meanwhile then triggers one more pull instead of being missed.
    if (!live) openLive();
    // The pull reads the server after the user's changes went (a flush under way is
    // joined); a change made during the pull is flushed on its own, at once.
    const end = await flushNow();
    if (end === "offline" || end === "auth") return;
    const scope = wantFull ? undefined : { plans: [...wantPlans] };
    wantFull = false;
    wantPlans.clear();
    pulling = true;
    let visits: VisitPlans;
    try { visits = await pull(scope); } finally { pulling = false; }
    if (who() === me) followVisitPlans(visits);
    const now = new Date().toISOString();
    lastSync.value = now;
    if (who() !== me) return;
    await setKv(LAST_SYNC, now);
    lastError.value = end === "retry" ? "retry" : null;
  } catch (error) {
    if (error instanceof TypeError) online.value = false; // fetch got no answer
    lastError.value = String(error);
  } finally {
    syncing.value = false;
    touched();
    void scheduleRetry();
  }
}

/* Local changes a pull must not write over: the outbox's records (waiting or just
 * sent, the server's answer stored) are stamped with a counter; a pull only writes
 * a record not stamped since it began. */
let localSeq = 0;
const localStamp = new Map<string, number>();

function stamp(...ids: (string | null | undefined)[]) {
  localSeq += 1;
  for (const id of ids) if (id) localStamp.set(id, localSeq);
}

function changedSince(id: string, since: number): boolean {
  return (localStamp.get(id) ?? 0) > since;
}

/** Ids the outbox still holds changes for (plans, actions, evidence, visits). */
async function pendingRefs(): Promise<Set<string>> {
  return new Set((await outbox.list()).flatMap((i) => [i.plan_id, i.ref]).filter((x): x is string => !!x));
}

/** What an accepted change means for the local copy. */
async function applySent(item: OutboxItem, data: unknown): Promise<void> {
  stamp(item.ref, item.plan_id, data && typeof data === "object" && "id" in data ? String(data.id) : null);
  if (!who()) return;
  const database = await db();
  if (item.kind === "submission") {
    const draft = await database.get("drafts", item.ref);
    if (draft) {
      draft.state = "sent";
      draft.problem = null;
      const score = (data as { score?: { percent?: number | null } } | undefined)?.score;
      if (score) draft.score_percent = score.percent ?? null;
      await database.put("drafts", draft);
    }
  } else if (item.kind === "evidence") {
    await database.delete("files", item.ref);
    if (data && typeof data === "object" && "id" in data) await database.put("evidence", data as Evidence);
  } else if (item.kind === "evidence.review" && data && typeof data === "object" && "id" in data) {
    await database.put("evidence", data as Evidence);
  } else if (data && typeof data === "object" && "actions" in data) {
    await database.put("plans", data as Plan);
  }
  touched();
}

async function markRefused(item: OutboxItem): Promise<void> {
  if (item.kind !== "submission" || !who()) return;
  const database = await db();
  const draft = await database.get("drafts", item.ref);
  if (draft) {
    draft.state = "needs_fix";
    draft.problem = item.problem ?? null;
    await database.put("drafts", draft);
  }
}

/** Every page of a list; `complete` is false when a page did not come (a partial
 * list must not be taken for the whole: nothing is deleted on its account). */
async function readPages<T>(fetchPage: (page: number) => Promise<{ items: T[]; total: number } | undefined>):
  Promise<{ items: T[]; complete: boolean }> {
  const found: T[] = [];
  for (let page = 1; page < 1000; page += 1) {
    const got = await fetchPage(page);
    if (!got) return { items: found, complete: false };
    found.push(...got.items);
    if (found.length >= got.total || got.items.length === 0) break;
  }
  return { items: found, complete: true };
}

async function allPages<T>(fetchPage: (page: number) => Promise<{ items: T[]; total: number } | undefined>): Promise<T[]> {
  return (await readPages(fetchPage)).items;
}

/** Templates, the places in scope and the coach's coachees (they rarely change). */
async function pullReference(database: Awaited<ReturnType<typeof db>>, role: string): Promise<void> {
  // Templates: a published version never changes, so only new versions are fetched.
  const summaries = await allPages(async (page) =>
    (await api.GET("/api/v1/templates", { params: { query: { page, per_page: PER_PAGE } } })).data);
  const latest = new Map<string, number>();
  for (const t of summaries) latest.set(t.code, Math.max(latest.get(t.code) ?? 0, t.version));
  for (const [code, version] of latest) {
    const held = await database.get("templates", code);
    if (held && held.version >= version) continue;
    // The template in full, as published (its sections and items), with its version.
    const full = await api.GET("/api/v1/templates/{code}", { params: { path: { code } } });
    if (full.data) await database.put("templates", full.data);
  }

  // Org units in scope (the facility list with coordinates).
  const unitItems = await allPages(async (page) =>
    (await api.GET("/api/v1/org-units", { params: { query: { page, per_page: PER_PAGE } } })).data);
  if (unitItems.length) {
    const tx = database.transaction("org_units", "readwrite");
    await tx.store.clear();
    for (const unit of unitItems) await tx.store.put(unit);
    await tx.done;
  }

  if (role === "coach" || role === "admin") {
    const coachees = await allPages(async (page) =>
      (await api.GET("/api/v1/me/coachees", { params: { query: { page, per_page: PER_PAGE } } })).data);
    const tx = database.transaction("coachees", "readwrite");
    await tx.store.clear();
    for (const c of coachees) await tx.store.put(c);
    await tx.done;
  }
}

/** Bring the local copy up to date. With `only` (a live event said what changed):
 * no reference data (templates, places, coachees), and of the plans only those it
 * names, those new to the phone and those whose summary changed; the evidence and
 * the inbox as always. Sign-in, reconnection, app open and the 5-minute timer read
 * everything. */
export async function pull(only?: { plans: string[] }): Promise<VisitPlans> {
  const database = await db();
  const me = session.value?.account;
  if (!me) return { found: [], waiting: 0 };
  const began = localSeq;
  const named = new Set(only?.plans ?? []);
  if (!only) await pullReference(database, me.role);

  // Plans: the list's summaries say which plans changed.
  const planList = await readPages(async (page) =>
    (await api.GET("/api/v1/plans", { params: { query: { page, per_page: PER_PAGE } } })).data);
  const plans = planList.items;
  if (planList.complete) {
    const keep = new Set(plans.map((p) => p.id));
    for (const held of await database.getAllKeys("plans")) {
      if (!keep.has(held) && !changedSince(held, began)) await database.delete("plans", held);
    }
  }
  for (const summary of plans) {
    // A plan with changes still waiting on the phone keeps its local copy until they
    // are sent, and one whose change was sent during this pull keeps the server's
    // answer to it: the server's older state never overwrites the user's own work.
    if ((await pendingRefs()).has(summary.id) || changedSince(summary.id, began)) continue;
    const key = JSON.stringify([summary.status, summary.actions]);
    const held = await database.get("plans", summary.id);
    if (held && held.summary_key === key && (summary.status === "completed" || (only && !named.has(summary.id)))) continue;
    const full = await api.GET("/api/v1/plans/{plan_id}", { params: { path: { plan_id: summary.id } } });
    const plan = full.data;
    if (!plan) continue;
    // Looked again after the read: the user may have changed it while it came.
    if ((await pendingRefs()).has(plan.id) || changedSince(plan.id, began)) continue;
    await database.put("plans", { ...plan, summary_key: key });
  }

  // Evidence of the caller's area (the same scope as the plans: the coachee sees the
  // review's outcome, the coach what waits): a few pages whatever the number of
  // actions, not one request per action.
  const evidence = await readPages(async (page) =>
    (await api.GET("/api/v1/evidence", {
      params: { query: { status: "any", order: "oldest", page, per_page: PER_PAGE } },
    })).data);
  const waiting = await pendingRefs();
  const mine = (id: string) => waiting.has(id) || changedSince(id, began);
  const seen = new Set<string>();
  for (const e of evidence.items) {
    seen.add(e.id);
    if (mine(e.id)) continue;
    await database.put("evidence", e);
  }
  if (evidence.complete) {
    for (const held of await database.getAllKeys("evidence")) {
      if (!seen.has(held) && !mine(held)) await database.delete("evidence", held);
    }
  }

  // Visits sent from this phone: find the plan written from each.
  const visits = await findVisitPlans();

  await pullInbox();
  return visits;
}

/** What a pull learnt of the plans of visits sent from this phone: the plans found
 * now (`found`) and how many visits still wait for theirs (`waiting`). */
export interface VisitPlans { found: string[]; waiting: number }

/** Ask for the plan of each visit sent from this phone that has none yet (one small
 * request per such visit: usually none or one). The server writes a visit's plan a
 * moment after accepting it, so it may not be there yet. */
async function findVisitPlans(): Promise<VisitPlans> {
  const me = who();
  const result: VisitPlans = { found: [], waiting: 0 };
  if (!me) return result;
  const database = await db();
  for (const draft of await database.getAllFromIndex("drafts", "state", "sent")) {
    if (draft.plan_id) continue;
    const found = await api.GET("/api/v1/submissions/{submission_id}/plan", {
      params: { path: { submission_id: draft.id } },
    });
    const plan = found.data;
    if (who() !== me) return result;
    if (plan) {
      draft.plan_id = plan.id;
      await database.put("drafts", draft);
      if (!(await database.get("plans", plan.id))) await database.put("plans", plan);
      result.found.push(plan.id);
    } else {
      result.waiting += 1;
    }
  }
  if (result.found.length) touched();
  return result;
}

/* A visit's plan is written on the server a moment after the visit is accepted, and
 * with it the earlier plans' actions the visit verified are closed. The pull that
 * follows the visit may come too early: while a sent visit has no plan, look for it
 * again a few times, further and further apart (one request per visit, no pull),
 * and once it is there, pull what it changed (the plans, the evidence, the inbox).
 * Bounded: after the last try, the usual pulls (timer, reconnection, live event)
 * still look for it on every pass, and the screens say the plan is being prepared. */
export const VISIT_PLAN_DELAYS_MS = [2_000, 5_000, 15_000, 40_000];
let visitPlanTry = 0;
let visitPlanTimer: ReturnType<typeof setTimeout> | null = null;

function followVisitPlans(visits: VisitPlans): void {
  if (visitPlanTimer) clearTimeout(visitPlanTimer);
  visitPlanTimer = null;
  // Found now: the earlier plans it closed actions of, its evidence and alerts
  // changed too; a light pull reads the lists again (and runs once more after a
  // sync in progress, never beside it).
  if (visits.found.length) void syncNow({ plans: visits.found });
  if (visits.waiting === 0) { visitPlanTry = 0; return; }
  if (visitPlanTry >= VISIT_PLAN_DELAYS_MS.length) return;
  const wait = VISIT_PLAN_DELAYS_MS[visitPlanTry];
  visitPlanTry += 1;
  visitPlanTimer = setTimeout(() => {
    visitPlanTimer = null;
    if (!session.value || !online.value) return; // back online: the pull looks again
    findVisitPlans().then(followVisitPlans, () => undefined);
  }, wait);
}

export async function pullInbox(): Promise<void> {
  const me = who();
  if (!me) return;
  const inbox = await api.GET("/api/v1/inbox", { params: { query: { page: 1, per_page: 50 } } });
  const items = inbox.data?.items;
  if (who() !== me) return;
  const database = await db();
  if (items) {
    const tx = database.transaction("inbox", "readwrite");
    await tx.store.clear();
    for (const m of items) await tx.store.put(m);
    await tx.done;
  }
  const count = await api.GET("/api/v1/inbox/unread-count", {});
  if (count.data) unread.value = count.data.unread;
  else if (items) unread.value = items.filter((m) => !m.read).length;
  touched();
}

let retryTimer: ReturnType<typeof setTimeout> | null = null;
const PROBE_MS = 10_000;

function scheduleProbe() {
  if (retryTimer) clearTimeout(retryTimer);
  retryTimer = setTimeout(() => { retryTimer = null; void syncNow(); }, PROBE_MS);
}

/** While something waits, send it again when it is due (and at least every minute). */
async function scheduleRetry() {
  if (retryTimer) clearTimeout(retryTimer);
  retryTimer = null;
  const due = await outbox.nextDue();
  if (!session.value) return;
  if (due === null) return;
  const wait = Math.min(Math.max(due - Date.now(), 1_000), 60_000);
  // Only the outbox is due: send it, without a pull.
  retryTimer = setTimeout(() => { retryTimer = null; void flushNow(); }, wait);
}

const LIVE_TYPES = ["checklist.submitted", "plan.created", "plan.agreed", "plan.completed",
  "action.status_changed", "action.due_soon", "action.overdue", "evidence.uploaded",
  "evidence.reviewed", "evidence.withdrawn", "notification.delivered", "notification.failed"];

/** Dispatched on `liveBus` each time the stream (re)opens: events may have been missed. */
export const LIVE_OPENED = "live.opened";

/** Every live event, re-dispatched for the screens that follow them (src/desk/live.ts):
 * one SSE stream per tab, whoever listens. */
export const liveBus = new EventTarget();

let live: EventSource | null = null;
let liveTimer: ReturnType<typeof setTimeout> | null = null;

/** Live updates over SSE while online: any event the user may see triggers a quiet pull. */
function openLive() {
  closeLive();
  const token = session.value?.access_token;
  if (!token || !online.value) return;
  const source = new EventSource(`/api/v1/live?access_token=${encodeURIComponent(token)}`);
  live = source;
  // Whatever happened before the stream was open (a view loaded its data first, a
  // reconnection after a drop) was not sent on it: tell the views to read again.
  source.onopen = () => { liveBus.dispatchEvent(new Event(LIVE_OPENED)); };
  const named = new Set<string>();
  const changed = (data: unknown) => {
    // The plan the event is about (plan, action and evidence events carry it): a live
    // event reads that plan again, not every plan (see `pull`).
    try {
      const planId = (JSON.parse(String(data)) as { data?: { plan_id?: unknown } }).data?.plan_id;
      if (typeof planId === "string") named.add(planId);
    } catch { /* not JSON: the lists still say what changed */ }
    if (liveTimer) clearTimeout(liveTimer);
    // The notify service writes the inbox just after the event: read both a moment later.
    // Through syncNow: one sync at a time, so a read never lands after (and undoes) a change being sent.
    liveTimer = setTimeout(() => {
      const plans = [...named];
      named.clear();
      void syncNow({ plans }).then(() => setTimeout(() => void pullInbox(), 2_000));
    }, 400);
  };
  for (const type of LIVE_TYPES) {
    source.addEventListener(type, (event) => {
      changed((event as MessageEvent).data);
      liveBus.dispatchEvent(new MessageEvent(type, { data: (event as MessageEvent).data }));
    });
  }
  source.onerror = () => {
    // Closed by the server when the token expires: reopen with a fresh one.
    if (source.readyState === EventSource.CLOSED || source.readyState === EventSource.CONNECTING) {
      source.close();
      if (live === source) live = null;
      setTimeout(() => {
        if (online.value && session.value) void ensureFresh().then((ok) => ok && openLive());
      }, 5_000);
    }
  };
}

function closeLive() {
  live?.close();
  live = null;
}

let started = false;

/** Start watching the network and syncing (once, after sign-in or at start-up with a session). */
export async function startSync(): Promise<void> {
  lastSync.value = (await getKv<string>(LAST_SYNC)) ?? null;
  await outbox.refreshCounts();
  const database = await db();
  unread.value = (await database.getAll("inbox")).filter((m) => !m.read).length;
  if (!started) {
    started = true;
    window.addEventListener("online", () => { online.value = true; void syncNow(); });
    window.addEventListener("offline", () => { online.value = false; closeLive(); });
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && online.value) void syncNow();
    });
    setInterval(() => { if (online.value && session.value) void syncNow(); }, 5 * 60_000);
  }
  await syncNow();
}

export function stopSync() {
  closeLive();
  if (retryTimer) clearTimeout(retryTimer);
  if (visitPlanTimer) clearTimeout(visitPlanTimer);
  visitPlanTimer = null;
  visitPlanTry = 0;
}

/** Queue a change and try to send it at once. */
export async function queue(...args: Parameters<typeof outbox.enqueue>): Promise<OutboxItem> {
  const item = await outbox.enqueue(...args);
  stamp(item.ref, item.plan_id);
  touched();
  // Sent now, beside a pull that may be running (never after it).
  void flushNow();
  return item;
}
