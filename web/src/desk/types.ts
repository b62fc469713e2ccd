/** Shapes of the dashboard answers the desk view reads.
 *
 * As in src/api/types.ts: where the OpenAPI document does not describe an answer
 * yet, the shape is written here, marked `Untyped`, with the code that produces
 * it; replace it by the schema's type once the document carries it. */
import type { components } from "@c2p/api-schema";

type Schemas = components["schemas"];

/** Untyped: checklist service, `queries.facility_scores` (one facility's latest visit). */
export interface FacilityScore {
  facility_id: string; facility_name: string; facility_path: string;
  district_id: string; district_name: string; region_id: string; region_name: string;
  latest_submission_id: string; latest_visited_at: string;
  percent: number | null; colour: "green" | "amber" | "red" | "grey" | null;
  flagged: boolean; first_percent: number | null; visits: number;
  template_code: string; latitude: number | null; longitude: number | null;
}

/** The desk map's layer (`GET /dashboards/map`). */
export type MapLayer = Schemas["MapLayerView"];
export type MapPointRow = Schemas["MapPoint"];

/** Untyped: checklist service, `dashboards.rollup`. */
export interface Rollup {
  district_id?: string; district_name?: string; region_id: string; region_name: string;
  facilities: number; visits: number; flagged: number; mean_percent: number | null;
  colours: { green: number; amber: number; red: number; grey: number };
}

/** Untyped: checklist service, `dashboards.rank_gaps`. */
export interface TopGap {
  item_code: string; section_code: string | null; label_fr: string; label_en: string;
  critical: boolean; failures: number; partial: number; visits: number;
  failure_rate: number | null;
}

/** `GET /dashboards/gaps` (GapReportView), with its rows as the level gives them. */
export interface GapReport<Row = FacilityScore> {
  level: string; template_code: string | null; area_id: string | null;
  since: string | null; until: string | null; items: Row[]; total: number;
  totals: { facilities: number; visits: number; mean_percent: number | null;
    colours: Record<string, number>; flagged: number };
  top_gaps: TopGap[];
}

/** Untyped: planner service, `domain.progress_row`. */
export interface ProgressRow {
  key: string; label: string; facility_path: string | null; done: number; open: number;
  overdue: number; dropped: number; total: number; percent_done: number;
  median_days_to_close: number | null;
}

/** Untyped: checklist service, `queries.facility_history`. */
export interface FacilityHistory {
  facility_id: string; facility_name: string; facility_path: string; change: number | null;
  visits: {
    submission_id: string; visited_at: string; coach_id: string; template_code: string;
    template_version: number; percent: number | null; colour: string; flagged: boolean;
    sections: { code: string; title_fr: string; title_en: string; percent: number | null }[];
  }[];
}

/** Untyped: evidence service, `_view` (with_urls). */
export interface QueueEvidence {
  id: string; action_id: string; plan_id: string; status: string; uploaded_by: string;
  facility: { id: string; path: string; name: string | null;
    location: { lat: number; lon: number } | null };
  filename: string; content_type: string; size_bytes: number | null;
  created_at: string | null; uploaded_at: string | null; captured_at: string | null;
  gps: { lat: number; lon: number } | null; distance_from_facility_m: number | null;
  hours_between_capture_and_upload: number | null; note: string;
  review: { decision: string; comment: string; reviewed_by: string; reviewed_at: string } | null;
  thumbnail_url?: string;
}
