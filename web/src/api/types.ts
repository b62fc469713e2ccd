/** Names for the API's shapes, all from the generated schema (src/api/schema.d.ts,
 * `npm run gen:api`): no request or answer shape is written by hand. */
import type { components } from "@c2p/api-schema";

export type Schemas = components["schemas"];
export type Template = Schemas["TemplateView"];
export type Section = Schemas["TemplateSection"];
export type Item = Schemas["TemplateItem"];
export type Account = Schemas["AccountView"];
export type InboxMessage = Schemas["InboxMessageView"];
export type SubmissionRequest = Schemas["SubmissionRequest"];
export type Submission = Schemas["SubmissionView"];
export type StatusChange = Schemas["StatusChange"];
export type GrowNotes = Schemas["GrowNotes"];
export type Problem = Schemas["Problem"];
export type Role = Account["role"];
export type OrgUnit = Schemas["OrgUnitView"];
export type Plan = Schemas["PlanView"];
export type PlanSummary = Schemas["PlanSummaryView"];
export type PlanAction = Schemas["ActionView"];
export type ActionStatus = PlanAction["status"];
export type Evidence = Schemas["EvidenceView"];
export type ReviewDecision = Schemas["ReviewRequest"]["decision"];
