/** What a piece of evidence in the review queue is for: the action's text, its
 * verification criterion and who sent it, read from the evidence's plan.
 *
 * The queue's items carry only `action_id`, `plan_id` and `uploaded_by`; the
 * plans hold the rest. A queue of 40 photos for 3 plans reads 3 plans, each
 * once for the life of the view (`PlanBook`), and a live reload of the queue
 * reads none again. A plan is read anew only when an item names an action it
 * did not have when it was read (a coach added one since), once per such action.
 *
 * The sender is named from the plan's coachees (the people the coach met). The
 * facility's DTC often was not met, yet owns the actions given to staff without an
 * account and sends their evidence: such a sender (or a coachee recorded without a
 * name) is named from their account (`GET /accounts/{id}`, in the reviewer's
 * scope), each account read once for the life of the view. Never a raw id when a
 * name can be had. */
import { t } from "../i18n";
import type { Plan, PlanAction } from "../api/types";
import type { QueueEvidence } from "./types";

export interface EvidencePurpose {
  action: PlanAction | null;
  /** Who sent it: a coachee of the plan by name, the plan's coach, or another
   * account named from the accounts ("account"); null when unknown. A coachee's
   * name is "" when the visit recorded none and no account gave one. */
  uploader: { name: string; role: "coachee" | "coach" | "account" } | null;
}

/** An account's display name, or null when there is none to be had (no such
 * account in the reader's scope); a failure to read rejects. */
export type NameReader = (accountId: string) => Promise<string | null>;

export class PlanBook {
  private plans = new Map<string, Promise<Plan | null>>();
  private reread = new Set<string>();
  private names = new Map<string, Promise<string | null>>();

  constructor(private readonly read: (planId: string) => Promise<Plan>,
              private readonly readName?: NameReader) {}

  /** An account's name, read once (a failed read is forgotten, so a later call
   * tries again; "no such account" is kept). */
  name(accountId: string): Promise<string | null> {
    let held = this.names.get(accountId);
    if (!held) {
      held = (this.readName ? this.readName(accountId) : Promise.resolve(null)).then(
        (name) => name?.trim() || null,
        () => { this.names.delete(accountId); return null; });
      this.names.set(accountId, held);
    }
    return held;
  }

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
    // Senders the plans do not name: from their accounts, each read once.
    const unnamed = [...new Set(items.filter((item) => item.uploaded_by && needsName(found.get(item.id)))
      .map((item) => item.uploaded_by))];
    if (this.readName && unnamed.length) {
      const names = new Map(await Promise.all(unnamed.map(async (id) => [id, await this.name(id)] as const)));
      for (const item of items) {
        const purpose = found.get(item.id);
        const name = names.get(item.uploaded_by);
        if (!purpose || !name || !needsName(purpose)) continue;
        found.set(item.id, { ...purpose, uploader: { name, role: purpose.uploader?.role ?? "account" } });
      }
    }
    return found;
  }
}

export function purposeIn(plan: Plan | null, item: Pick<QueueEvidence, "action_id" | "uploaded_by">): EvidencePurpose {
  const action = plan?.actions.find((a) => a.id === item.action_id) ?? null;
  const coachee = plan?.coachees.find((c) => c.id === item.uploaded_by);
  const uploader = coachee ? { name: (coachee.name ?? "").trim(), role: "coachee" as const }
    : plan && plan.coach_id === item.uploaded_by ? { name: "", role: "coach" as const } : null;
  return { action, uploader };
}

/** Whether the sender still has no name: not in the plan, or met without a name. */
function needsName(purpose: EvidencePurpose | undefined): boolean {
  return !purpose?.uploader || (purpose.uploader.role === "coachee" && !purpose.uploader.name);
}

/** Who sent the evidence, in words: "you", their name, "the plan's coach"; the
 * account id only when no name could be found. */
export function uploaderText(purpose: EvidencePurpose | undefined, uploadedBy: string, me: string | undefined): string {
  if (me && uploadedBy === me) return t("desk.review.by_you");
  if (purpose?.uploader?.role === "coach") return t("desk.review.by_coach");
  if (purpose?.uploader?.name) return purpose.uploader.name;
  return uploadedBy;
}
