// The Visits tab of a coach's new phone: the coach's visits the server holds, those
// the phone does not have, or nothing (null) when the server cannot be asked.
import { afterEach, describe, expect, it, vi } from "vitest";
import { notOnPhone, serverVisits, type ServerVisit } from "../../src/stores/serverVisits";

const visit = (id: string): ServerVisit => ({
  id, coach_id: "coach-1", colour: "green", facility_id: "f", facility_name: "CSCom de Pogo", facility_path: "",
  flagged: false, gaps: 0, percent: 90, received_at: "2026-11-04T10:00:00Z", template_code: "pev-integrated",
  template_version: 1, visited_at: "2026-11-04T09:00:00Z",
});

afterEach(() => { vi.unstubAllGlobals(); });

describe("visits from the server", () => {
  it("asks for the coach's own visits", async () => {
    const seen: string[] = [];
    vi.stubGlobal("fetch", async (request: Request) => {
      seen.push(request.url);
      return new Response(JSON.stringify({ items: [visit("v1"), visit("v2")], page: 1, per_page: 50, total: 2 }),
        { status: 200, headers: { "Content-Type": "application/json" } });
    });
    const found = await serverVisits("coach-1");
    expect(found?.map((v) => v.id)).toEqual(["v1", "v2"]);
    const url = new URL(seen[0]);
    expect(url.pathname).toBe("/api/v1/submissions");
    expect(url.searchParams.get("coach_id")).toBe("coach-1");
  });

  it("says it could not ask (offline), rather than 'no visits'", async () => {
    vi.stubGlobal("fetch", async () => { throw new TypeError("Failed to fetch"); });
    expect(await serverVisits("coach-1")).toBeNull();
  });

  it("leaves out the visits already on the phone (a visit's id is its draft's)", () => {
    expect(notOnPhone([visit("v1"), visit("v2")], new Set(["v1"])).map((v) => v.id)).toEqual(["v2"]);
  });
});
