// The sync against a mocked API that counts requests (stores/sync.ts): a pull is a
// handful of requests whatever the number of actions, and the user's own change goes
// out at once, even while a (slow) pull is running, and is not undone by it.
import "fake-indexeddb/auto";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { db, wipe } from "../../src/stores/db";
import { session } from "../../src/stores/session";
import * as outbox from "../../src/stores/outbox";
import { pull, queue, stopSync, syncNow, VISIT_PLAN_DELAYS_MS } from "../../src/stores/sync";

const PLAN = "00000000-0000-4000-8000-0000000000aa";
const COACH = "coach-1";

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
const page = (items: unknown[], p = 1, per = 100, total = items.length) =>
  ({ total, page: p, per_page: per, items });

function action(i: number) {
  return {
    id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`, plan_id: PLAN,
    status: i % 3 === 0 ? "todo" : "in_progress", due_date: "2026-12-01", overdue: false,
  };
}

function plan(actions: number, agreedByCoach = false) {
  return {
    id: PLAN, submission_id: PLAN, facility_id: "f1", facility_name: "CSCom", facility_path: "/ml/f1/",
    coach_id: COACH, coachees: [], status: "draft", created_at: "2026-11-01T00:00:00Z",
    visited_at: "2026-11-01T00:00:00Z", completed_at: null,
    agreement: { coach: agreedByCoach ? { by: COACH, at: "2026-11-30T10:00:00Z" } : null, coachee: null },
    grow: { goal: "", reality: "", options: "", will: "" },
    actions: Array.from({ length: actions }, (_, i) => action(i + 1)),
  };
}

function evidenceOf(actionId: string, n: number) {
  return { id: `ev-${actionId}-${n}`, action_id: actionId, plan_id: PLAN, status: "accepted", review: null };
}

/** The mocked gateway: every request is counted; `hold` keeps GET /plans/{id} waiting. */
function server(actions: number, evidencePerAction: number) {
  const seen: string[] = [];
  let release: (() => void) | null = null;
  const state = { hold: false, agreed: false };
  const evidence = plan(actions).actions.flatMap((a) =>
    Array.from({ length: evidencePerAction }, (_, n) => evidenceOf(a.id, n)));
  const released = () => new Promise<void>((resolve) => { release = resolve; });
  const handle = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const path = url.pathname;
    seen.push(`${request.method} ${path}`);
    const q = url.searchParams;
    const p = Number(q.get("page") ?? 1), per = Number(q.get("per_page") ?? 20);
    if (path === "/health") return new Response("ok");
    if (request.method === "POST" && path === `/api/v1/plans/${PLAN}/agree`) {
      state.agreed = true;
      return json(plan(actions, true));
    }
    if (path === "/api/v1/plans") {
      return json(page([{ id: PLAN, status: "draft", actions: { total: actions, done: 0, dropped: 0, open: actions, overdue: 0 } }]));
    }
    if (path === `/api/v1/plans/${PLAN}`) {
      const stale = plan(actions, state.agreed); // read before the change was made
      if (state.hold) await released();
      return json(stale);
    }
    if (path.startsWith("/api/v1/actions/")) {
      const id = path.split("/")[4];
      return json({ ...page(evidence.filter((e) => e.action_id === id)), action_id: id, action_status: "in_progress" });
    }
    if (path === "/api/v1/evidence") {
      expect(q.get("status")).toBe("any");
      return json(page(evidence.slice((p - 1) * per, p * per), p, per, evidence.length));
    }
    if (path === "/api/v1/inbox/unread-count") return json({ unread: 0 });
    if (["/api/v1/templates", "/api/v1/org-units", "/api/v1/me/coachees", "/api/v1/inbox"].includes(path)) {
      return json(page([], p, per, 0));
    }
    return json({ type: "about:blank", title: "Not found", status: 404 }, 404);
  };
  return { seen, state, release: () => release?.(), handle };
}

let api: ReturnType<typeof server>;

beforeEach(async () => {
  await wipe();
  vi.stubGlobal("navigator", { onLine: true });
  vi.stubGlobal("EventSource", class { static CLOSED = 2; static CONNECTING = 0; close() {} addEventListener() {} });
  vi.stubGlobal("fetch", (input: Request | string) =>
    api.handle(typeof input === "string" ? new Request(new URL(input, "http://localhost")) : input));
  session.value = {
    access_token: "t", refresh_token: "r", access_expires_at: Date.now() + 3_600_000,
    refresh_expires_at: Date.now() + 86_400_000,
    account: { id: COACH, role: "coach" } as never,
  };
});

afterEach(() => {
  stopSync();
  session.value = null;
  vi.unstubAllGlobals();
});

const count = (prefix: string) => api.seen.filter((r) => r.startsWith(prefix)).length;

describe("pull", () => {
  it("reads the evidence of every action in a few paged requests, not one per action", async () => {
    const totals: number[] = [];
    for (const actions of [5, 150]) {
      await wipe();
      api = server(actions, 1);
      await pull();
      expect(count("GET /api/v1/actions/")).toBe(0);
      totals.push(api.seen.length);
      const held = await (await db()).getAll("evidence");
      expect(held).toHaveLength(actions);
    }
    // 150 actions: one more page of evidence (100 a page) than 5, nothing per action
    expect(totals[1] - totals[0]).toBe(1);
    expect(totals[1]).toBeLessThanOrEqual(10);
  });

  it("drops evidence the server no longer lists, keeps the one under review on the phone", async () => {
    api = server(2, 1);
    const database = await db();
    await database.put("evidence", evidenceOf("gone", 0) as never);
    await database.put("evidence", { ...evidenceOf(action(1).id, 0), review: { decision: "approved" } } as never);
    await outbox.enqueue("evidence.review", evidenceOf(action(1).id, 0).id, { decision: "approved", comment: "" },
      { plan_id: PLAN, next_at: Date.now() + 60_000 });
    await pull();
    const held = await database.getAll("evidence");
    expect(held.map((e) => e.id).sort()).toEqual([evidenceOf(action(1).id, 0).id, evidenceOf(action(2).id, 0).id].sort());
    expect(held.find((e) => e.action_id === action(1).id)?.review).toEqual({ decision: "approved" });
  });
});

describe("a pull after a live event", () => {
  it("reads only the plan the event names, the lists and the inbox, not every plan nor the reference data", async () => {
    api = server(40, 1);
    await pull();
    api.seen.length = 0;
    await pull({ plans: [] }); // e.g. notification.delivered: nothing named, summaries unchanged
    expect(api.seen.sort()).toEqual(["GET /api/v1/evidence", "GET /api/v1/inbox",
      "GET /api/v1/inbox/unread-count", "GET /api/v1/plans"]);
    api.seen.length = 0;
    await pull({ plans: [PLAN] }); // action.status_changed of that plan
    expect(count(`GET /api/v1/plans/${PLAN}`)).toBe(1);
    expect(api.seen).toHaveLength(5);
  });
});

describe("a change made during a sync", () => {
  it("is sent at once, not after the pull, and the pull does not undo it", async () => {
    api = server(20, 1);
    api.state.hold = true;
    const sync = syncNow();
    await vi.waitFor(() => expect(count(`GET /api/v1/plans/${PLAN}`)).toBe(1), { timeout: 5_000 });

    // The coach taps "Je valide ce plan" while the pull waits on the slow network.
    const database = await db();
    const local = await database.get("plans", PLAN);
    expect(local).toBeUndefined(); // first sync: not held yet
    await queue("plan.agree", PLAN);
    await vi.waitFor(() => expect(count(`POST /api/v1/plans/${PLAN}/agree`)).toBe(1), { timeout: 5_000 });
    await vi.waitFor(async () => expect(await outbox.list()).toEqual([]), { timeout: 5_000 });
    // The server's answer is stored just after the item leaves the outbox.
    await vi.waitFor(async () => expect((await database.get("plans", PLAN))?.agreement.coach?.by)
      .toBe(COACH), { timeout: 5_000 });

    // The pull's read (made before the change) arrives now: it must not win.
    api.release();
    await sync;
    expect((await database.get("plans", PLAN))?.agreement.coach?.by).toBe(COACH);
    expect(count(`POST /api/v1/plans/${PLAN}/agree`)).toBe(1);
    expect(outbox.waitingCount.value).toBe(0);
  });

  it("goes out in one request when idle", async () => {
    api = server(3, 0);
    await queue("plan.agree", PLAN);
    await vi.waitFor(async () => expect(await outbox.list()).toEqual([]), { timeout: 5_000 });
    expect(api.seen).toEqual([`POST /api/v1/plans/${PLAN}/agree`]);
  });
});

describe("a follow-up visit sent after being offline", () => {
  const VISIT = "00000000-0000-4000-8000-0000000000bb";
  const NEW_PLAN = "00000000-0000-4000-8000-0000000000cc";
  const delays = [...VISIT_PLAN_DELAYS_MS];

  beforeEach(() => { VISIT_PLAN_DELAYS_MS.splice(0, delays.length, 20, 20, 20, 20); });
  afterEach(() => { VISIT_PLAN_DELAYS_MS.splice(0, delays.length, ...delays); });

  /** The gateway after the visit is accepted: the planner writes its plan (and closes
   * the earlier plan's action it verified) only after `writeAfter` looks for it. */
  function planner(writeAfter: number) {
    api = server(1, 0);
    const earlier = plan(1);
    let looks = 0;
    const written = () => looks > writeAfter;
    const handle = api.handle;
    api.handle = async (request) => {
      const path = new URL(request.url).pathname;
      if (path === `/api/v1/submissions/${VISIT}/plan`) {
        api.seen.push(`GET ${path}`);
        looks += 1;
        return written() ? json({ ...plan(0), id: NEW_PLAN, submission_id: VISIT, visited_at: "2026-12-01T00:00:00Z" })
          : json({ type: "about:blank", title: "Not found", status: 404 }, 404);
      }
      if (path === "/api/v1/plans") {
        api.seen.push(`GET ${path}`);
        const closed = written() ? 1 : 0;
        return json(page([{ id: PLAN, status: "in_progress", actions: { total: 1, done: closed, dropped: 0, open: 1 - closed, overdue: 0 } },
          ...(written() ? [{ id: NEW_PLAN, status: "draft", actions: { total: 0, done: 0, dropped: 0, open: 0, overdue: 0 } }] : [])]));
      }
      if (path === `/api/v1/plans/${PLAN}`) {
        api.seen.push(`GET ${path}`);
        return json({ ...earlier, actions: earlier.actions.map((a) => ({ ...a, status: written() ? "done" : a.status })) });
      }
      if (path === `/api/v1/plans/${NEW_PLAN}`) {
        api.seen.push(`GET ${path}`);
        return json({ ...plan(0), id: NEW_PLAN, submission_id: VISIT, visited_at: "2026-12-01T00:00:00Z" });
      }
      return handle(request);
    };
  }

  /** The number of requests once none has come for 100 ms (at most 3 s). */
  async function settled(): Promise<number> {
    for (let waited = 0; waited < 3_000; waited += 100) {
      const before = api.seen.length;
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (api.seen.length === before) return before;
    }
    return api.seen.length;
  }

  async function sentVisit() {
    const database = await db();
    await database.put("drafts", {
      id: VISIT, facility_id: "f1", facility_name: "CSCom", template_code: "t", template_version: 1,
      answers: {}, comment: "", coachees: [], gps: null, started_at: "2026-12-01T00:00:00Z",
      updated_at: "2026-12-01T00:00:00Z", state: "sent", plan_id: null,
    } as never);
  }

  it("looks for the visit's plan again until it is written, then reads the plans it changed", async () => {
    planner(2);
    await pull(); // the earlier plan, as the phone held it
    await sentVisit();
    await syncNow();
    const database = await db();
    await vi.waitFor(async () => expect((await database.get("drafts", VISIT))?.plan_id).toBe(NEW_PLAN), { timeout: 5_000 });
    // The earlier plan is read again: its action the visit verified is closed.
    await vi.waitFor(async () => expect((await database.get("plans", PLAN))?.actions[0].status).toBe("done"), { timeout: 5_000 });
    expect(await database.get("plans", NEW_PLAN)).toBeDefined();
    // Nothing more afterwards: no polling once the plan is there (the light pull
    // that reads the plans it changed may still be finishing: wait for it first).
    const seen = await settled();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(api.seen.length).toBe(seen);
    expect(count(`GET /api/v1/submissions/${VISIT}/plan`)).toBe(3);
  });

  it("gives up after a few tries (the usual pulls look again later)", async () => {
    planner(1_000);
    await sentVisit();
    await syncNow();
    await new Promise((resolve) => setTimeout(resolve, 400));
    // One look in the pull, then one per delay; never a pull per try.
    expect(count(`GET /api/v1/submissions/${VISIT}/plan`)).toBe(1 + VISIT_PLAN_DELAYS_MS.length);
    expect(api.seen.filter((r) => r === "GET /api/v1/plans")).toHaveLength(1);
  });
});
