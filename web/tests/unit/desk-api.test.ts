// The desk's reads revalidate (src/desk/api.ts): the ETag and body of each URL
// are held, sent back as If-None-Match, and a 304 gives the held body again.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiProblem, desk, forgetAnswers } from "../../src/desk/api";
import { session, type Session } from "../../src/stores/session";

const seen: Request[] = [];
let answer: (request: Request) => Response;

const board = (cohort: string, points: number) => ({
  cohort, since: "2025-01-01", until: "2025-06-30", formula: "", page: 1, per_page: 100, total: 1,
  items: [{ facility_id: "f-1", facility_name: "CSCom de Nampala", points }], unranked: [],
});
const json = (body: unknown, etag?: string, status = 200) => new Response(JSON.stringify(body), {
  status, headers: { "Content-Type": "application/json", ...(etag ? { ETag: etag } : {}) },
});
/** The gateway: 304 when If-None-Match names the current ETag, else `fresh`. */
const gateway = (etag: string, fresh: () => Response) => (request: Request) =>
  request.headers.get("If-None-Match") === etag ? new Response(null, { status: 304, headers: { ETag: etag } }) : fresh();

beforeEach(() => {
  forgetAnswers();
  seen.length = 0;
  vi.stubGlobal("fetch", async (request: Request) => { seen.push(request); return answer(request); });
});
afterEach(() => { vi.unstubAllGlobals(); });

describe("desk reads", () => {
  it("send the ETag back and reuse the held body on 304", async () => {
    answer = gateway('W/"a1"', () => json(board("2025", 12.5), 'W/"a1"'));
    const first = await desk.leaderboard({ cohort: "2025" });
    expect(seen[0].headers.get("If-None-Match")).toBeNull();

    const again = await desk.leaderboard({ cohort: "2025" });
    expect(seen[1].headers.get("If-None-Match")).toBe('W/"a1"');
    expect(again).toEqual(first);
    expect(again.items[0].points).toBe(12.5);
    expect(again).not.toBe(first); // a fresh copy: a view changing its answer changes nothing held

    // The data changed: a new ETag and body, held in place of the old ones.
    answer = gateway('W/"a2"', () => json(board("2025", 20), 'W/"a2"'));
    expect((await desk.leaderboard({ cohort: "2025" })).items[0].points).toBe(20);
    expect(seen[2].headers.get("If-None-Match")).toBe('W/"a1"');
    await desk.leaderboard({ cohort: "2025" });
    expect(seen[3].headers.get("If-None-Match")).toBe('W/"a2"');
  });

  it("hold each full URL on its own, query included", async () => {
    answer = (request) => json(board(new URL(request.url).searchParams.get("cohort") ?? "", 1),
      `W/"${new URL(request.url).search}"`);
    await desk.leaderboard({ cohort: "2025" });
    await desk.leaderboard({ cohort: "2026" });
    expect(seen[1].headers.get("If-None-Match")).toBeNull(); // another query: nothing held for it
    expect(new URL(seen[1].url).searchParams.get("cohort")).toBe("2026");

    answer = (request) => new Response(null, { status: 304, headers: { ETag: request.headers.get("If-None-Match") ?? "" } });
    expect((await desk.leaderboard({ cohort: "2025" })).cohort).toBe("2025");
    expect(seen[2].headers.get("If-None-Match")).toBe('W/"?cohort=2025"');
    expect((await desk.leaderboard({ cohort: "2026" })).cohort).toBe("2026");
    expect(seen[3].headers.get("If-None-Match")).toBe('W/"?cohort=2026"');
  });

  it("do not hold an error, and drop what was held when one comes", async () => {
    answer = () => json({ type: "about:blank", title: "Unavailable", status: 503 }, 'W/"e"', 503);
    await expect(desk.leaderboard({ cohort: "2025" })).rejects.toBeInstanceOf(ApiProblem);
    answer = () => json(board("2025", 3), 'W/"b1"');
    await desk.leaderboard({ cohort: "2025" });
    expect(seen[1].headers.get("If-None-Match")).toBeNull(); // the 503 was not held

    answer = () => json({ type: "about:blank", title: "Forbidden", status: 403 }, undefined, 403);
    await expect(desk.leaderboard({ cohort: "2025" })).rejects.toBeInstanceOf(ApiProblem);
    expect(seen[2].headers.get("If-None-Match")).toBe('W/"b1"');
    answer = () => json(board("2025", 4), 'W/"b2"');
    expect((await desk.leaderboard({ cohort: "2025" })).items[0].points).toBe(4);
    expect(seen[3].headers.get("If-None-Match")).toBeNull(); // the 403 dropped the held answer
  });

  it("hold nothing without an ETag, and leave writes alone", async () => {
    answer = () => json(board("2025", 1));
    await desk.leaderboard({ cohort: "2025" });
    await desk.leaderboard({ cohort: "2025" });
    expect(seen[1].headers.get("If-None-Match")).toBeNull();

    answer = () => json({ id: "e-1", status: "approved" }, 'W/"w"');
    await desk.review("e-1", "approved", "");
    await desk.review("e-1", "approved", "");
    expect(seen.slice(2).map((r) => [r.method, r.headers.get("If-None-Match")])).toEqual([["POST", null], ["POST", null]]);
  });

  it("forget what was held when another account signs in", async () => {
    const as = (id: string) => ({ access_token: id, account: { id } }) as unknown as Session;
    session.value = as("coach.niono");
    answer = gateway('W/"s"', () => json(board("2025", 1), 'W/"s"'));
    await desk.leaderboard({ cohort: "2025" });
    session.value = { ...as("coach.niono"), access_token: "renewed" }; // the same account: kept
    await desk.leaderboard({ cohort: "2025" });
    expect(seen[1].headers.get("If-None-Match")).toBe('W/"s"');
    session.value = null; // signed out
    await desk.leaderboard({ cohort: "2025" });
    expect(seen[2].headers.get("If-None-Match")).toBeNull();
  });
});
