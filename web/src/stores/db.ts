/** The phone's own copy of the user's data, in IndexedDB (through `idb`).
 *
 * Everything the app shows offline comes from here; the sync (stores/sync.ts)
 * fills it from the API and empties the outbox into it. Signing out deletes the
 * whole database (stores/session.ts). */
import { openDB, deleteDB, type DBSchema, type IDBPDatabase } from "idb";
import type { Account, InboxMessage, OrgUnit, Plan, Template, Evidence, Problem, Schemas } from "../api/types";

export type CoacheeRole = Schemas["Coachee"]["role"];
import type { Answers } from "../domain/scoring";

export const DB_NAME = "c2p";

/** A visit being filled, queued or sent. Its id is the submission's client id. */
export interface Draft {
  id: string;
  facility_id: string;
  facility_name: string;
  template_code: string;
  template_version: number;
  answers: Answers;
  comment: string;
  /** the people met, with their job (the planner gives each action to the matching one) */
  coachees: { id: string; role: CoacheeRole; name: string }[];
  gps: { lat: number; lon: number; accuracy_m: number | null } | null;
  started_at: string;
  updated_at: string;
  /** draft: being filled; queued: in the outbox; sent: accepted by the server;
   *  needs_fix: refused (409/422), kept for the user to fix. */
  state: "draft" | "queued" | "sent" | "needs_fix";
  problem?: Problem | null;
  plan_id?: string | null;
  score_percent?: number | null;
}

export type OpKind = "submission" | "plan.agree" | "plan.grow" | "action.status" | "evidence" | "evidence.review" | "inbox.read";

/** One change made on the phone, waiting to be sent (oldest first). */
export interface OutboxItem {
  seq?: number;            // IndexedDB key, in order of creation
  id: string;              // the change's own client id
  kind: OpKind;
  /** what it is about: the draft, plan or action id */
  ref: string;
  plan_id?: string;
  body?: unknown;
  state: "waiting" | "needs_fix";
  attempts: number;
  next_at: number;         // ms epoch: not before (back-off)
  created_at: string;
  problem?: Problem | null;
  last_error?: string | null;
}

/** A file waiting to be uploaded as evidence (the bytes stay on the phone until sent). */
export interface PendingFile {
  id: string;              // the evidence's client id
  action_id: string;
  plan_id: string;
  filename: string;
  content_type: string;
  blob: Blob;
  size: number;
  created_at: string;
  progress: number;        // 0..1 of the current attempt
}

interface C2PSchema extends DBSchema {
  kv: { key: string; value: unknown };
  templates: { key: string; value: Template };
  org_units: { key: string; value: OrgUnit; indexes: { level: string } };
  coachees: { key: string; value: Account };
  plans: { key: string; value: Plan & { summary_key?: string } };
  evidence: { key: string; value: Evidence; indexes: { action_id: string } };
  inbox: { key: string; value: InboxMessage; indexes: { created_at: string } };
  drafts: { key: string; value: Draft; indexes: { state: string } };
  outbox: { key: number; value: OutboxItem; indexes: { id: string; ref: string } };
  files: { key: string; value: PendingFile; indexes: { action_id: string } };
}

export type C2PDB = IDBPDatabase<C2PSchema>;
export type StoreName = "kv" | "templates" | "org_units" | "coachees" | "plans" | "evidence" | "inbox" |
  "drafts" | "outbox" | "files";
export const STORES: StoreName[] = ["kv", "templates", "org_units", "coachees", "plans", "evidence", "inbox",
  "drafts", "outbox", "files"];

let opening: Promise<C2PDB> | null = null;

export function db(): Promise<C2PDB> {
  if (!opening) {
    opening = openDB<C2PSchema>(DB_NAME, 1, {
      upgrade(database) {
        database.createObjectStore("kv");
        database.createObjectStore("templates", { keyPath: "code" });
        database.createObjectStore("org_units", { keyPath: "id" }).createIndex("level", "level");
        database.createObjectStore("coachees", { keyPath: "id" });
        database.createObjectStore("plans", { keyPath: "id" });
        database.createObjectStore("evidence", { keyPath: "id" }).createIndex("action_id", "action_id");
        database.createObjectStore("inbox", { keyPath: "id" }).createIndex("created_at", "created_at");
        database.createObjectStore("drafts", { keyPath: "id" }).createIndex("state", "state");
        const outbox = database.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
        outbox.createIndex("id", "id", { unique: true });
        outbox.createIndex("ref", "ref");
        database.createObjectStore("files", { keyPath: "id" }).createIndex("action_id", "action_id");
      },
      blocking() {
        // Another tab wants a newer version or a wipe: let it.
        void opening?.then((d) => d.close());
        opening = null;
      },
    });
  }
  return opening;
}

export async function getKv<T>(key: string): Promise<T | undefined> {
  return (await (await db()).get("kv", key)) as T | undefined;
}

export async function setKv(key: string, value: unknown): Promise<void> {
  await (await db()).put("kv", value, key);
}

/** Delete every local record (sign-out). */
export async function wipe(): Promise<void> {
  if (opening) {
    (await opening).close();
    opening = null;
  }
  await deleteDB(DB_NAME);
}
