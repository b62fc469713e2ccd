// The outbox: order, idempotent client ids, back-off, refusals kept for the user.
import "fake-indexeddb/auto";
import { beforeEach, describe, expect, it } from "vitest";
import { wipe } from "../../src/stores/db";
import * as outbox from "../../src/stores/outbox";
import type { OutboxItem } from "../../src/stores/db";

beforeEach(async () => { await wipe(); });

const problem = { type: "about:blank", title: "Invalid input", status: 422, detail: "bad",
  errors: [{ field: "answers.cc_current_temperature", reason: "an answer is required" }] };

describe("outbox", () => {
  it("sends in the order the changes were made, then is empty", async () => {
    await outbox.enqueue("submission", "visit-1", { a: 1 });
    await outbox.enqueue("plan.agree", "plan-1");
    await outbox.enqueue("action.status", "action-1", { status: "in_progress" });
    expect(outbox.waitingCount.value).toBe(3);
    const seen: string[] = [];
    const report = await outbox.flush(async (item) => { seen.push(item.kind); return { kind: "done" }; });
    expect(seen).toEqual(["submission", "plan.agree", "action.status"]);
    expect(report.sent).toHaveLength(3);
    expect(await outbox.list()).toEqual([]);
    expect(outbox.waitingCount.value).toBe(0);
  });

  it("keeps one item for one client id, however often it is queued", async () => {
    await outbox.enqueue("submission", "visit-1", {}, { id: "visit-1" });
    await outbox.enqueue("submission", "visit-1", {}, { id: "visit-1" });
    expect(await outbox.list()).toHaveLength(1);
  });

  it("retries with the same client id after a failure, never a second record", async () => {
    await outbox.enqueue("submission", "visit-1", { id: "visit-1" }, { id: "visit-1" });
    const server = new Map<string, unknown>();
    let answerLost = true;
    let clock = 1_000;
    const transport = async (item: OutboxItem) => {
      server.set((item.body as { id: string }).id, item.body); // the server stores by client id
      if (answerLost) { answerLost = false; return { kind: "retry", error: "network" } as const; }
      return { kind: "done" } as const;
    };
    const first = await outbox.flush(transport, undefined, () => clock);
    expect(first.stopped).toBe("retry");
    const [waiting] = await outbox.list();
    expect(waiting.attempts).toBe(1);
    expect(waiting.next_at).toBe(1_000 + outbox.backoff(1));
    // not due yet: nothing is sent
    const early = await outbox.flush(transport, undefined, () => clock + 10);
    expect(early.sent).toHaveLength(0);
    clock += outbox.backoff(1);
    const second = await outbox.flush(transport, undefined, () => clock);
    expect(second.sent.map((i) => i.id)).toEqual(["visit-1"]);
    expect(server.size).toBe(1);
  });

  it("stops at a failure that may be temporary, so later changes keep their order", async () => {
    await outbox.enqueue("plan.agree", "plan-1");
    await outbox.enqueue("action.status", "action-1", { status: "in_progress" });
    const seen: string[] = [];
    await outbox.flush(async (item) => { seen.push(item.kind); return { kind: "retry", error: "503" }; });
    expect(seen).toEqual(["plan.agree"]);
    expect(outbox.waitingCount.value).toBe(2);
  });

  it("keeps a refused change (409/422) with the server's reasons, and sends the others", async () => {
    await outbox.enqueue("submission", "visit-1", {}, { id: "visit-1" });
    await outbox.enqueue("plan.agree", "plan-1");
    const report = await outbox.flush(async (item) =>
      item.kind === "submission" ? { kind: "needs_fix", problem } : { kind: "done" });
    expect(report.refused.map((i) => i.id)).toEqual(["visit-1"]);
    const [kept] = await outbox.list();
    expect(kept.state).toBe("needs_fix");
    expect(kept.problem?.errors?.[0].field).toBe("answers.cc_current_temperature");
    expect(outbox.needsFixCount.value).toBe(1);
    expect(outbox.waitingCount.value).toBe(0);
    // a refused item is not sent again until the user fixes it
    const again = await outbox.flush(async () => { throw new Error("must not be called"); });
    expect(again.sent).toHaveLength(0);
    await outbox.retryNow("visit-1", { fixed: true });
    const fixed = await outbox.flush(async () => ({ kind: "done" }));
    expect(fixed.sent.map((i) => i.body)).toEqual([{ fixed: true }]);
    expect(outbox.needsFixCount.value).toBe(0);
  });

  it("stops without counting an attempt when the session must be renewed", async () => {
    await outbox.enqueue("plan.agree", "plan-1");
    const report = await outbox.flush(async () => ({ kind: "auth" }));
    expect(report.stopped).toBe("auth");
    const [item] = await outbox.list();
    expect(item.attempts).toBe(0);
  });

  it("treats a transport that throws as a temporary failure", async () => {
    await outbox.enqueue("plan.agree", "plan-1");
    const report = await outbox.flush(async () => { throw new TypeError("Failed to fetch"); });
    expect(report.stopped).toBe("retry");
    expect((await outbox.list())[0].last_error).toBe("network");
    expect(report.error).toBe("network");
  });

  it("lets only one flush run at a time", async () => {
    await outbox.enqueue("plan.agree", "plan-1");
    let calls = 0;
    const transport = async () => { calls += 1; await new Promise((r) => setTimeout(r, 5)); return { kind: "done" } as const; };
    await Promise.all([outbox.flush(transport), outbox.flush(transport)]);
    expect(calls).toBe(1);
  });
});
