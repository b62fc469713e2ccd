/** The outbox: changes made on the phone, sent to the API in the order they were made.
 *
 * Each item carries its own client id (and the record's: a visit's id is the
 * submission id), so sending it twice never makes two records. `flush()` sends
 * what is due, oldest first, through a transport (stores/transport.ts; tests give
 * a fake one) that says how each attempt went:
 * - `done`: accepted (first time or replayed), the item leaves the outbox;
 * - `needs_fix`: refused for what it says (409, 422): kept, shown to the user,
 *   never dropped silently; the next items still go;
 * - `retry`: no network, a server error or a timeout: the item waits with
 *   back-off and, because later changes may depend on it, so do they;
 * - `auth`: the session must be renewed first: stop, nothing counted. */
import { signal } from "@preact/signals";
import { db, type OutboxItem, type OpKind } from "./db";
import type { Problem } from "../api/types";

export type Outcome =
  | { kind: "done"; data?: unknown }
  | { kind: "needs_fix"; problem: Problem }
  | { kind: "retry"; error: string }
  | { kind: "auth" };

export type Transport = (item: OutboxItem) => Promise<Outcome>;

/** Records waiting to be sent, and those the user must look at. */
export const waitingCount = signal(0);
export const needsFixCount = signal(0);
/** The oldest change the server refused, for the sync bar to say what and why. */
export const firstRefusal = signal<Pick<OutboxItem, "kind" | "problem"> | null>(null);

const BACKOFF_MS = [2_000, 10_000, 30_000, 60_000, 120_000, 300_000];

export function backoff(attempts: number): number {
  return BACKOFF_MS[Math.min(attempts - 1, BACKOFF_MS.length - 1)] ?? BACKOFF_MS[0];
}

export function newId(): string {
  return crypto.randomUUID();
}

export async function enqueue(kind: OpKind, ref: string, body?: unknown,
  extra: Partial<OutboxItem> = {}): Promise<OutboxItem> {
  const item: OutboxItem = {
    id: extra.id ?? newId(), kind, ref, body, state: "waiting", attempts: 0, next_at: 0,
    created_at: new Date().toISOString(), problem: null, last_error: null, ...extra,
  };
  const database = await db();
  const existing = await database.getFromIndex("outbox", "id", item.id);
  if (existing) return existing; // enqueuing the same change twice keeps one
  item.seq = await database.add("outbox", item);
  await refreshCounts();
  return item;
}

export async function list(): Promise<OutboxItem[]> {
  return (await db()).getAll("outbox");
}

export async function forRef(ref: string): Promise<OutboxItem[]> {
  return (await db()).getAllFromIndex("outbox", "ref", ref);
}

export async function remove(id: string): Promise<void> {
  const database = await db();
  const item = await database.getFromIndex("outbox", "id", id);
  if (item?.seq !== undefined) await database.delete("outbox", item.seq);
  await refreshCounts();
}

/** Give up a change for good (the user's choice, for one the server refused). An
 * evidence file's bytes go with it: kept, its action would show it waiting for ever. */
export async function discard(id: string): Promise<void> {
  const database = await db();
  const item = await database.getFromIndex("outbox", "id", id);
  if (item?.kind === "evidence") await database.delete("files", item.ref);
  await remove(id);
}

export async function update(item: OutboxItem): Promise<void> {
  await (await db()).put("outbox", item);
  await refreshCounts();
}

/** After the user fixed it (or to try again now): back in the queue, due at once. */
export async function retryNow(id: string, body?: unknown): Promise<void> {
  const database = await db();
  const item = await database.getFromIndex("outbox", "id", id);
  if (!item) return;
  item.state = "waiting";
  item.next_at = 0;
  item.problem = null;
  if (body !== undefined) item.body = body;
  await update(item);
}

export async function refreshCounts(): Promise<void> {
  const items = await list();
  waitingCount.value = items.filter((i) => i.state === "waiting").length;
  needsFixCount.value = items.filter((i) => i.state === "needs_fix").length;
  const refused = items.find((i) => i.state === "needs_fix");
  firstRefusal.value = refused ? { kind: refused.kind, problem: refused.problem ?? null } : null;
}

export interface FlushReport {
  sent: OutboxItem[]; refused: OutboxItem[]; stopped: "done" | "retry" | "auth";
  /** why it stopped on a retry: "network" when a request got no answer at all */
  error?: string;
}

let flushing: Promise<FlushReport> | null = null;

/** Send what is due, oldest first. One flush at a time (a second call joins the first). */
export function flush(transport: Transport, onDone?: (item: OutboxItem, data: unknown) => Promise<void> | void,
  now: () => number = Date.now): Promise<FlushReport> {
  if (!flushing) {
    flushing = run(transport, onDone, now).finally(() => { flushing = null; });
  }
  return flushing;
}

async function run(transport: Transport, onDone: ((item: OutboxItem, data: unknown) => Promise<void> | void) | undefined,
  now: () => number): Promise<FlushReport> {
  const report: FlushReport = { sent: [], refused: [], stopped: "done" };
  const items = (await list()).sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
  for (const item of items) {
    if (item.state !== "waiting") continue;
    if (item.next_at > now()) { report.stopped = "retry"; break; }
    let outcome: Outcome;
    try {
      outcome = await transport(item);
    } catch (error) {
      // fetch rejects with a TypeError when no answer came (offline, DNS, reset)
      outcome = { kind: "retry", error: error instanceof TypeError ? "network" : String(error) };
    }
    if (outcome.kind === "done") {
      await remove(item.id);
      report.sent.push(item);
      await onDone?.(item, outcome.data);
    } else if (outcome.kind === "needs_fix") {
      item.state = "needs_fix";
      item.problem = outcome.problem;
      item.attempts += 1;
      await update(item);
      report.refused.push(item);
    } else if (outcome.kind === "retry") {
      item.attempts += 1;
      item.next_at = now() + backoff(item.attempts);
      item.last_error = outcome.error;
      await update(item);
      report.stopped = "retry";
      report.error = outcome.error;
      break;
    } else {
      report.stopped = "auth";
      break;
    }
  }
  await refreshCounts();
  return report;
}

/** The earliest time something waiting is due (for the retry timer), or null. */
export async function nextDue(): Promise<number | null> {
  const due = (await list()).filter((i) => i.state === "waiting").map((i) => i.next_at);
  return due.length ? Math.min(...due) : null;
}
