// How an answer from the API decides an outbox item's fate (stores/transport.ts).
import "fake-indexeddb/auto";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { send } from "../../src/stores/transport";
import type { OutboxItem } from "../../src/stores/db";

let answer: (request: Request) => Response;
const seen: Request[] = [];
const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
const problem = (status: number) => new Response(JSON.stringify({
  type: "about:blank", title: "Refused", status, detail: "the same id with other content",
  errors: [{ field: "answers.cc_in_range", reason: "an answer is required" }],
}), { status, headers: { "Content-Type": "application/problem+json" } });

beforeEach(() => {
  seen.length = 0;
  vi.stubGlobal("fetch", async (request: Request) => { seen.push(request); return answer(request); });
});
afterEach(() => { vi.unstubAllGlobals(); });

const item = (kind: OutboxItem["kind"], extra: Partial<OutboxItem> = {}): OutboxItem => ({
  id: "op-1", kind, ref: "00000000-0000-4000-8000-000000000001", state: "waiting", attempts: 0, next_at: 0,
  created_at: "", body: { id: "00000000-0000-4000-8000-000000000001" }, ...extra,
});

describe("transport", () => {
  it("posts a visit under its client id; 201 and a replayed 200 are both done", async () => {
    answer = () => json({ id: "v", replayed: false }, 201);
    expect((await send(item("submission"))).kind).toBe("done");
    expect(seen[0].method).toBe("POST");
    expect(new URL(seen[0].url).pathname).toBe("/api/v1/submissions");
    expect(await seen[0].json()).toEqual({ id: "00000000-0000-4000-8000-000000000001" });
    answer = () => json({ id: "v", replayed: true }, 200);
    expect((await send(item("submission"))).kind).toBe("done");
  });

  it.each([409, 422, 403, 404])("keeps a %i for the user to see, with the server's reasons", async (status) => {
    answer = () => problem(status);
    const outcome = await send(item("submission"));
    expect(outcome.kind).toBe("needs_fix");
    if (outcome.kind === "needs_fix") {
      expect(outcome.problem.status).toBe(status);
      expect(outcome.problem.errors?.[0].field).toBe("answers.cc_in_range");
    }
  });

  it.each([500, 502, 503, 429])("retries later after a %i", async (status) => {
    answer = () => new Response("busy", { status });
    expect((await send(item("plan.agree"))).kind).toBe("retry");
  });

  it("renews the session first after a 401", async () => {
    answer = () => new Response(null, { status: 401 });
    expect((await send(item("plan.grow", { body: { goal: "x" } }))).kind).toBe("auth");
  });

  it("takes 'already in that status' after a lost answer as done", async () => {
    const actionId = "00000000-0000-4000-8000-000000000001";
    answer = (request) => request.method === "POST" ? problem(409)
      : json({ id: "p", actions: [{ id: actionId, status: "in_progress" }] });
    const outcome = await send(item("action.status", { plan_id: "p", body: { status: "in_progress", comment: "", reason: "" } }));
    expect(outcome.kind).toBe("done");
    answer = (request) => request.method === "POST" ? problem(409)
      : json({ id: "p", actions: [{ id: actionId, status: "done" }] });
    const refused = await send(item("action.status", { plan_id: "p", body: { status: "in_progress", comment: "", reason: "" } }));
    expect(refused.kind).toBe("needs_fix");
  });
});
