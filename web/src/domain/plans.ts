/** Which plans and actions a user is shown on the home screen. */
import type { Plan, PlanAction } from "../api/types";

export interface ActionRow { plan: Plan; action: PlanAction }

const OPEN = new Set(["todo", "in_progress", "awaiting_review"]);

/** When a plan's visit took place (its creation if the visit date is unknown). */
export const planDate = (plan: Plan): string => plan.visited_at ?? plan.created_at;

/** The open actions the user follows, each once, sorted by due date, overdue first.
 *
 * A still-open action is carried over into the plan of every follow-up visit to
 * the same facility (the planner reuses the action, same id): it is listed once,
 * with the latest plan that holds it. */
export function myActions(plans: Plan[], me: string, role: string | null, today = new Date().toISOString().slice(0, 10)): ActionRow[] {
  const byId = new Map<string, ActionRow>();
  for (const plan of plans) {
    for (const action of plan.actions) {
      if (!OPEN.has(action.status)) continue;
      if (role === "coachee" && action.owner_id && action.owner_id !== me) continue;
      const seen = byId.get(action.id);
      if (!seen || planDate(plan).localeCompare(planDate(seen.plan)) > 0) byId.set(action.id, { plan, action });
    }
  }
  const overdue = (a: PlanAction) => a.overdue || a.due_date < today;
  return [...byId.values()].sort((x, y) => Number(overdue(y.action)) - Number(overdue(x.action))
    || x.action.due_date.localeCompare(y.action.due_date));
}

/** The side of a plan's agreement the user signs: a coachee's, a coach's, or none. */
export function agreementSide(role: string | null): "coach" | "coachee" | null {
  return role === "coachee" ? "coachee" : role === "coach" || role === "admin" ? "coach" : null;
}

/** Draft plans still waiting for this user's agreement, latest visit first. */
export function plansToAgree(plans: Plan[], role: string | null): Plan[] {
  const side = agreementSide(role);
  if (!side) return [];
  return plans.filter((p) => p.status === "draft" && !p.agreement[side])
    .sort((a, b) => planDate(b).localeCompare(planDate(a)));
}

/** A visit sent from this phone whose plan the server has not written yet. */
export interface AwaitedVisit { id: string; facility_id: string; facility_name: string; started_at: string }

/** Is this plan out of date until the plan of a visit sent after it arrives? A later
 * visit to the same facility may verify (close) its actions and carry the others
 * over, so the phone's copy is not shown as current meanwhile. */
export function awaitsVisitPlan(plan: Plan, awaited: AwaitedVisit[]): boolean {
  return awaited.some((v) => v.facility_id === plan.facility_id && v.started_at.localeCompare(planDate(plan)) > 0);
}
