/** The desk view's reads and writes, all through the generated API client
 * (src/api/client.ts): no request shape is written by hand here. Answers the
 * document does not type yet are named in ./types.ts.
 *
 * The desk works online (a coach at a desk or on a tablet with a network): a
 * failed read shows its problem and a retry button, nothing is queued. */
import { api, asProblem } from "../api/client";
import type { Problem } from "../api/types";
import type {
  FacilityHistory, FacilityScore, GapReport, MapLayer, ProgressRow, QueueEvidence, Rollup,
} from "./types";

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
    api.GET("/api/v1/dashboards/map", { params: { query: clean({ ...filters }) }, signal })),
  /** The totals and the items failed most of the same area (the rows come from mapLayer). */
  gaps: (filters: GapFilters, signal?: AbortSignal) => unwrap<GapReport<FacilityScore>>(
    api.GET("/api/v1/dashboards/gaps", { params: { query: clean({ level: "facility" as const, top: 10, per_page: 1, ...filters }) }, signal })),
  rollup: (level: "district" | "region", filters: GapFilters) => unwrap<GapReport<Rollup>>(
    api.GET("/api/v1/dashboards/gaps", { params: { query: clean({ level, top: 10, per_page: 100, ...filters }) } })),
  progress: (by: "coachee" | "facility" | "district" | "plan") => allPages<ProgressRow>((page) =>
    unwrap(api.GET("/api/v1/dashboards/progress", { params: { query: { by, page, per_page: 100 } } }))),
  leaderboard: (query: { cohort?: string; since?: string; until?: string; page?: number; per_page?: number }) =>
    unwrap<LeaderboardAnswer>(api.GET("/api/v1/dashboards/leaderboard", { params: { query: clean(query) } })),
  templates: () => allPages<{ code: string; version: number; title_fr?: string; title_en?: string }>((page) =>
    unwrap(api.GET("/api/v1/templates", { params: { query: { page, per_page: 100 } } }))).then((items) => ({ items })),
  template: (code: string) => unwrap<{ thresholds?: { green: number; amber: number } }>(
    api.GET("/api/v1/templates/{code}", { params: { path: { code } } })),
  orgUnits: (level: "region" | "district" | "facility") =>
    allPages<{ id: string; name: string; parent_id: string | null; path: string }>((page) =>
      unwrap(api.GET("/api/v1/org-units", { params: { query: { level, page, per_page: 100 } } }))),
  history: (facilityId: string) => unwrap<FacilityHistory>(
    api.GET("/api/v1/facilities/{facility_id}/scores", { params: { path: { facility_id: facilityId } } })),
  plans: (facilityId: string) => unwrap<{ items: import("../api/types").Plan[] }>(
    api.GET("/api/v1/plans", { params: { query: { facility_id: facilityId, per_page: 100 } } })),
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
