/** The coach's visits as the server holds them, for the Visits tab of a phone that
 * did not send them (a new phone, the app reinstalled). Read when the tab opens,
 * online only, and not kept: the phone's own copy stays what the phone made. */
import { api } from "../api/client";
import type { Schemas } from "../api/types";

export type ServerVisit = Schemas["SubmissionSummaryView"];

/** The coach's latest visits (newest first), or null when the server could not be asked. */
export async function serverVisits(coachId: string, perPage = 50): Promise<ServerVisit[] | null> {
  try {
    const found = await api.GET("/api/v1/submissions", { params: { query: { coach_id: coachId, per_page: perPage } } });
    return found.data?.items ?? null;
  } catch {
    return null; // no network: the tab shows what the phone has
  }
}

/** Those not on the phone already (a visit's id is its draft's id). */
export function notOnPhone(visits: ServerVisit[], draftIds: Set<string>): ServerVisit[] {
  return visits.filter((v) => !draftIds.has(v.id));
}
