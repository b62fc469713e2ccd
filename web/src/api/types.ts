/** Names for the API's shapes, from the generated schema (src/api/schema.d.ts).
 *
 * Where the document does not describe an answer yet (it says "any object"),
 * the shape the app relies on is written here, marked `Untyped`, with the
 * service that produces it; replace it by the schema's own type once the
 * document carries it (run `npm run gen:api`). */
import type { components } from "@c2p/api-schema";

export type Schemas = components["schemas"];
export type Template = Schemas["TemplateDefinition"] & { version: number };
export type Section = Schemas["TemplateSection"];
export type Item = Schemas["TemplateItem"];
export type Account = Schemas["AccountView"];
export type InboxMessage = Schemas["InboxMessageView"];
export type SubmissionRequest = Schemas["SubmissionRequest"];
export type StatusChange = Schemas["StatusChange"];
export type GrowNotes = Schemas["GrowNotes"];
export type Problem = Schemas["Problem"];
export type Role = Account["role"];

/** Untyped: checklist service, `store.unit_view`. */
export interface OrgUnit {
  id: string; name: string; level: string; parent_id: string | null; path: string;
  dhis2_id?: string | null; code?: string | null;
  latitude: number | null; longitude: number | null;
}

/** Untyped: planner service, `_action_view`. */
export interface PlanAction {
  id: string; position: number; item_code: string | null;
  text_fr: string; text_en: string; verification_fr: string; verification_en: string;
  responsible_role: string; owner_id: string | null; due_date: string; critical: boolean;
  points_lost: number; status: ActionStatus; source: string; comment?: string | null;
  drop_reason?: string | null; late?: boolean; overdue: boolean;
}
export type ActionStatus = "todo" | "in_progress" | "awaiting_review" | "done" | "dropped";

/** Untyped: planner service, `_view`. */
export interface Plan {
  id: string; submission_id: string; facility_id: string; facility_name: string;
  facility_path: string; coach_id: string; coachees: { id: string; role?: string; name?: string }[];
  status: "draft" | "agreed" | "in_progress" | "completed"; created_at: string;
  visited_at: string | null;
  agreement: { coach: { by: string; at: string } | null; coachee: { by: string; at: string } | null;
    agreed_at: string | null };
  grow: { goal: string; reality: string; options: string; will: string };
  actions: PlanAction[];
}

/** Untyped: evidence service, `_view`. */
export interface Evidence {
  id: string; action_id: string; plan_id: string; status: string; filename: string;
  content_type: string; size_bytes: number | null; created_at: string | null;
  uploaded_at: string | null; captured_at: string | null;
  gps: { lat: number; lon: number } | null; distance_from_facility_m: number | null;
  refusal: { code: string; reason_en: string; reason_fr: string } | null;
  review: { decision: string; comment: string; reviewed_by: string; reviewed_at: string } | null;
  thumbnail_url?: string;
}

/** Untyped: checklist service, submission view (score part). */
export interface Score {
  percent: number | null; points: number; max_points: number; colour: string; flagged: boolean;
  sections: { code: string; title_fr: string; title_en: string; points: number; max_points: number;
    percent: number | null; colour: string; effective: boolean }[];
}
