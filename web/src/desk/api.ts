/** The desk view's reads and writes, all through the generated API client
 * (src/api/client.ts): no request shape is written by hand here. Answers the
 * document does not type yet are named in ./types.ts.
 *
 * The desk works online (a coach at a desk or on a tablet with a network): a
 * failed read shows its problem and a retry button, nothing is queued. Its reads
 * revalidate (`revalidating` below): a dashboard that has not changed since the
 * desk last read it comes back as a 304 with no body, not as its megabyte again. */
import { computed, effect } from "@preact/signals";
import { createApi, asProblem } from "../api/client";
import type { Problem } from "../api/types";
import { session } from "../stores/session";
import type {
  FacilityHistory, FacilityScore, GapReport, MapLayer, ProgressRow, QueueEvidence, Rollup,
} from "./types";

/** Answers the desk holds, by full URL (path and query): the gateway's ETag and
 * the body it came with, in memory for this page and this signed-in account. The
 * gateway's dashboards carry a weak ETag keyed on the caller's scope and the
 * data's generation, and answer 304 to an `If-None-Match` that still holds (their
 * Cache-Control is `no-store`, so the browser keeps nothing itself). At most
 * HOLD answers (a map layer is up to 1 MB of JSON), the least recently used out. */
const held = new Map<string, { etag: string; type: string; body: string }>();
const HOLD = 24;
let era = 0;

/** Forget every held answer (another account, or a test). */
export function forgetAnswers(): void {
  held.clear();
  era += 1;
}

// Signing out or in as someone else forgets what the previous account was shown.
const account = computed(() => session.value?.account.id ?? null);
effect(() => { void account.value; forgetAnswers(); });

/** The desk's fetch. A GET of a URL whose answer is held is sent with
 * `If-None-Match`, and a 304 is turned back into that answer (a 200 with the held
 * body), so the callers see no difference. A successful answer with an ETag is
 * held; any other answer (an error, or one without ETag) drops what was held. */
export async function revalidating(request: Request): Promise<Response> {
  if (request.method !== "GET") return globalThis.fetch(request);
  const url = request.url;
  const mine = held.get(url);
  const asked = era;
  if (mine) request.headers.set("If-None-Match", mine.etag);
  const response = await globalThis.fetch(request);
  if (asked !== era) return response.status === 304 && mine ? replay(mine) : response;
  held.delete(url); // set again below as the most recently used, or dropped
  if (response.status === 304 && mine) {
    held.set(url, mine);
    return replay(mine);
  }
  const etag = response.headers.get("ETag");
  if (response.ok && etag) {
    const type = response.headers.get("Content-Type") ?? "application/json";
    held.set(url, { etag, type, body: await response.clone().text() });
    if (held.size > HOLD) held.delete(held.keys().next().value as string);
  }
  return response;
}

function replay(answer: { etag: string; type: string; body: string }): Response {
  return new Response(answer.body, { status: 200, headers: { "Content-Type": answer.type, ETag: answer.etag } });
}

const api = createApi(revalidating);

export class ApiProblem extends Error {
  constructor(readonly problem: Problem) { super(problem.detail || problem.title); }
}

async function unwrap<T>(call: Promise<{ data?: unknown; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw new ApiProblem(asProblem(error, response.status));
  return data as T;
}

export interface GapFilters {
  since?: string; until?: string; template_code?: string; area_id?: string;
}

function clean<T extends object>(query: T): T {
  return Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined && v !== "")) as T;
}

/** The map's and its summary's query: no template chosen ("All checklists") asks
 * for every template's visits, not the API's default (the template with the most
 * visits). */
function mapQuery(filters: GapFilters) {
  return clean({ ...filters, all_templates: filters.template_code ? undefined : true });
}

/** Every page of a list (the API pages every list; a desk view shows them all). */
async function allPages<T>(fetchPage: (page: number) => Promise<{ items: T[]; total: number; per_page: number }>): Promise<T[]> {
  const first = await fetchPage(1);
  const items = [...first.items];
  for (let page = 2; items.length < first.total && page <= Math.ceil(first.total / first.per_page); page += 1) {
    items.push(...(await fetchPage(page)).items);
  }
  return items;
}

export const desk = {
  /** Every facility of the area with its latest score and place (one page: up to 5,000). */
  mapLayer: (filters: GapFilters, signal?: AbortSignal) => unwrap<MapLayer>(
    api.GET("/api/v1/dashboards/map", { params: { query: mapQuery(filters) }, signal })),
  /** The totals and the items failed most of the same area (the rows come from mapLayer). */
  gaps: (filters: GapFilters, signal?: AbortSignal) => unwrap<GapReport<FacilityScore>>(
    api.GET("/api/v1/dashboards/gaps", { params: { query: { level: "facility" as const, top: 10, per_page: 1, ...mapQuery(filters) } }, signal })),
  rollup: (level: "district" | "region", filters: GapFilters) => unwrap<GapReport<Rollup>>(
    api.GET("/api/v1/dashboards/gaps", { params: { query: clean({ level, top: 10, per_page: 100, ...filters }) } })),
  progress: (by: "coachee" | "facility" | "district" | "plan") => allPages<ProgressRow>((page) =>
    unwrap(api.GET("/api/v1/dashboards/progress", { params: { query: { by, page, per_page: 100 } } }))),
  leaderboard: (query: { cohort?: string; since?: string; until?: string; page?: number; per_page?: number }) =>
    unwrap<LeaderboardAnswer>(api.GET("/api/v1/dashboards/leaderboard", { params: { query: clean(query) } })),
  templates: (signal?: AbortSignal) => allPages<{ code: string; version: number; title_fr?: string; title_en?: string }>((page) =>
    unwrap(api.GET("/api/v1/templates", { params: { query: { page, per_page: 100 } }, signal }))).then((items) => ({ items })),
  template: (code: string, signal?: AbortSignal) => unwrap<{ thresholds?: { green: number; amber: number } }>(
    api.GET("/api/v1/templates/{code}", { params: { path: { code } }, signal })),
  orgUnits: (level: "region" | "district" | "facility", signal?: AbortSignal) =>
    allPages<{ id: string; name: string; parent_id: string | null; path: string }>((page) =>
      unwrap(api.GET("/api/v1/org-units", { params: { query: { level, page, per_page: 100 } }, signal }))),
  history: (facilityId: string) => unwrap<FacilityHistory>(
    api.GET("/api/v1/facilities/{facility_id}/scores", { params: { path: { facility_id: facilityId } } })),
  plans: (facilityId: string) => unwrap<{ items: import("../api/types").Plan[] }>(
    api.GET("/api/v1/plans", { params: { query: { facility_id: facilityId, per_page: 100 } } })),
  /** One plan, whole (its actions with their text and verification in both languages). */
  plan: (planId: string, signal?: AbortSignal) => unwrap<import("../api/types").Plan>(
    api.GET("/api/v1/plans/{plan_id}", { params: { path: { plan_id: planId } }, signal })),
  /** An account's display name (the review queue's senders); null when the account
   * is not there for the caller (404: none, or outside the caller's area). */
  accountName: async (accountId: string): Promise<string | null> => {
    const { data, error, response } = await api.GET("/api/v1/accounts/{account_id}", {
      params: { path: { account_id: accountId } } });
    if (response.status === 404) return null;
    if (!response.ok) throw new ApiProblem(asProblem(error, response.status));
    return data?.display_name ?? null;
  },
  actionEvidence: (actionId: string) => unwrap<{ items: QueueEvidence[] }>(
    api.GET("/api/v1/actions/{action_id}/evidence", { params: { path: { action_id: actionId } } })),
  /** The review queue: evidence waiting for review, oldest upload first (first 100). */
  queue: () => unwrap<{ items: QueueEvidence[]; total: number }>(api.GET("/api/v1/evidence", {
    params: { query: { status: "accepted", per_page: 100 } } })).then((answer) => answer.items),
  review: (evidenceId: string, decision: "approved" | "rejected" | "needs_more", comment: string) =>
    unwrap<QueueEvidence>(api.POST("/api/v1/evidence/{evidence_id}/review", {
      params: { path: { evidence_id: evidenceId } }, body: { decision, comment } })),
};

export interface LeaderboardTeam extends Omit<FacilityScore, "percent" | "latest_submission_id" | "template_code" | "latitude" | "longitude" | "district_id" | "region_id"> {
  latest_percent: number | null; actions_done: number; actions_total: number;
  actions_overdue: number; percent_done: number; improvement?: number; points?: number;
  rank?: number; reason?: string;
}

export interface LeaderboardAnswer {
  cohort: string | null; since: string; until: string; formula: string;
  items: LeaderboardTeam[]; page: number; per_page: number; total: number;
  unranked: LeaderboardTeam[];
}
