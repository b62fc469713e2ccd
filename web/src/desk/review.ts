/** What a piece of evidence in the review queue is for: the action's text, its
 * verification criterion and who sent it, read from the evidence's plan.
 *
 * The queue's items carry only `action_id`, `plan_id` and `uploaded_by`; the
 * plans hold the rest. A queue of 40 photos for 3 plans reads 3 plans, each
 * once for the life of the view (`PlanBook`), and a live reload of the queue
 * reads none again. A plan is read anew only when an item names an action it
 * did not have when it was read (a coach added one since), once per such action. */
import { t } from "../i18n";
import type { Plan, PlanAction } from "../api/types";
import type { QueueEvidence } from "./types";

export interface EvidencePurpose {
  action: PlanAction | null;
  /** Who sent it: a coachee of the plan by name, or the plan's coach; null when unknown. */
  uploader: { name: string; role: "coachee" | "coach" } | null;
}

export class PlanBook {
  private plans = new Map<string, Promise<Plan | null>>();
  private reread = new Set<string>();

  constructor(private readonly read: (planId: string) => Promise<Plan>) {}

  /** The plan, read once (a failed read is forgotten, so a later call tries again). */
  plan(planId: string): Promise<Plan | null> {
    let held = this.plans.get(planId);
    if (!held) {
      held = this.read(planId).catch(() => {
        this.plans.delete(planId);
        return null;
      });
      this.plans.set(planId, held);
    }
    return held;
  }

  /** The purpose of each item, by evidence id: every distinct plan read at most once. */
  async purposes(items: QueueEvidence[]): Promise<Map<string, EvidencePurpose>> {
    const planIds = [...new Set(items.map((item) => item.plan_id).filter(Boolean))];
    // A plan read before an action was added to it is read once more.
    const plans = new Map<string, Plan | null>();
    await Promise.all(planIds.map(async (planId) => {
      let plan = await this.plan(planId);
      const missing = items.filter((item) => item.plan_id === planId
        && !plan?.actions.some((a) => a.id === item.action_id)
        && !this.reread.has(`${planId} ${item.action_id}`));
      if (plan && missing.length) {
        for (const item of missing) this.reread.add(`${planId} ${item.action_id}`);
        this.plans.delete(planId);
        plan = await this.plan(planId);
      }
      plans.set(planId, plan);
    }));
    const found = new Map<string, EvidencePurpose>();
    for (const item of items) found.set(item.id, purposeIn(plans.get(item.plan_id) ?? null, item));
    return found;
  }
}

export function purposeIn(plan: Plan | null, item: Pick<QueueEvidence, "action_id" | "uploaded_by">): EvidencePurpose {
  const action = plan?.actions.find((a) => a.id === item.action_id) ?? null;
  const coachee = plan?.coachees.find((c) => c.id === item.uploaded_by);
  const uploader = coachee ? { name: coachee.name || coachee.id, role: "coachee" as const }
    : plan && plan.coach_id === item.uploaded_by ? { name: "", role: "coach" as const } : null;
  return { action, uploader };
}

/** Who sent the evidence, in words. */
export function uploaderText(purpose: EvidencePurpose | undefined, uploadedBy: string, me: string | undefined): string {
  if (me && uploadedBy === me) return t("desk.review.by_you");
  if (purpose?.uploader?.role === "coachee") return purpose.uploader.name;
  if (purpose?.uploader?.role === "coach") return t("desk.review.by_coach");
  return uploadedBy;
}
