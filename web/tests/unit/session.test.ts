// Sign in once, quiet refresh, sign-out wipes: the session store against a fake API.
import "fake-indexeddb/auto";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { db, getKv, wipe } from "../../src/stores/db";
import * as session from "../../src/stores/session";
import * as outbox from "../../src/stores/outbox";

type Handler = (request: Request) => Response | Promise<Response>;
let routes: Record<string, Handler>;
const calls: string[] = [];

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
const tokens = (n: number) => ({ access_token: `access-${n}`, token_type: "Bearer", expires_in: 900,
  refresh_token: `refresh-${n}`, refresh_expires_in: 86400 });
const account = (id: string) => ({ id, username: id, display_name: id, role: "coach", scope: ["/ML"], active: true,
  coaching: [], language: "fr", preferences: {}, created_at: "", updated_at: "" });

beforeEach(async () => {
  await wipe();
  session.session.value = null;
  session.needsSignIn.value = false;
  calls.length = 0;
  routes = {
    "POST /api/v1/auth/token": () => json(tokens(1)),
    "GET /api/v1/me": (r) => json(account(r.headers.get("Authorization") === "Bearer access-9" ? "u-other" : "u-coach")),
    "POST /api/v1/auth/refresh": () => json(tokens(2)),
    "POST /api/v1/auth/sign-out": () => new Response(null, { status: 204 }),
  };
  vi.stubGlobal("fetch", async (input: Request) => {
    const key = `${input.method} ${new URL(input.url).pathname}`;
    calls.push(key);
    const handler = routes[key];
    return handler ? handler(input) : json({ title: "no route" }, 404);
  });
  vi.stubGlobal("navigator", { onLine: true });
});

afterEach(() => { vi.unstubAllGlobals(); });

describe("session", () => {
  it("signs in, keeps the session on the phone, and reloads it", async () => {
    await session.signIn("coach.niono", "pw");
    expect(session.session.value?.account.id).toBe("u-coach");
    session.session.value = null;
    await session.loadSession();
    expect((session.session.value as session.Session | null)?.access_token).toBe("access-1");
  });

  it("renews the access token quietly when it is about to expire", async () => {
    await session.signIn("coach.niono", "pw");
    expect(await session.ensureFresh()).toBe(true);
    expect(calls).not.toContain("POST /api/v1/auth/refresh"); // still valid for 15 min
    session.session.value = { ...session.session.value!, access_expires_at: Date.now() + 10_000 };
    expect(await session.ensureFresh()).toBe(true);
    expect(session.session.value?.access_token).toBe("access-2");
    expect((await getKv<{ refresh_token: string }>("session"))?.refresh_token).toBe("refresh-2");
  });

  it("asks to sign in again when the refresh token is refused, and keeps the phone's work", async () => {
    await session.signIn("coach.niono", "pw");
    await outbox.enqueue("plan.agree", "plan-1");
    routes["POST /api/v1/auth/refresh"] = () => json({ title: "Unauthorized" }, 401);
    expect(await session.ensureFresh(true)).toBe(false);
    expect(session.needsSignIn.value).toBe(true);
    expect(await outbox.list()).toHaveLength(1);
  });

  it("keeps the session when the refresh gets no answer (offline)", async () => {
    await session.signIn("coach.niono", "pw");
    routes["POST /api/v1/auth/refresh"] = () => { throw new TypeError("Failed to fetch"); };
    expect(await session.ensureFresh(true)).toBe(false);
    expect(session.needsSignIn.value).toBe(false);
    expect(session.session.value?.access_token).toBe("access-1");
  });

  it("wipes the previous person's records when someone else signs in", async () => {
    await session.signIn("coach.niono", "pw");
    await outbox.enqueue("plan.agree", "plan-1");
    routes["POST /api/v1/auth/token"] = () => json({ ...tokens(9) });
    await session.signIn("other", "pw");
    expect(session.session.value?.account.id).toBe("u-other");
    expect(await outbox.list()).toHaveLength(0);
  });

  it("signs out: revokes the session and wipes every local record", async () => {
    await session.signIn("coach.niono", "pw");
    await outbox.enqueue("plan.agree", "plan-1");
    await (await db()).put("drafts", { id: "d1" } as never);
    await session.signOut();
    expect(calls).toContain("POST /api/v1/auth/sign-out");
    expect(session.session.value).toBeNull();
    expect(await outbox.list()).toHaveLength(0);
    expect(await (await db()).count("drafts")).toBe(0);
    expect(await getKv("session")).toBeUndefined();
  });

  it("names why a sign-in failed", async () => {
    routes["POST /api/v1/auth/token"] = () => json({ title: "Unauthorized" }, 401);
    await expect(session.signIn("x", "y")).rejects.toMatchObject({ reason: "credentials" });
    routes["POST /api/v1/auth/token"] = () => { throw new TypeError("Failed to fetch"); };
    await expect(session.signIn("x", "y")).rejects.toMatchObject({ reason: "network" });
  });
});
