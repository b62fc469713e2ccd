import { describe, expect, it } from "vitest";
import { myActions, plansToAgree } from "../../src/domain/plans";
import type { Plan, PlanAction } from "../../src/api/types";

const action = (id: string, extra: Partial<PlanAction> = {}): PlanAction => ({
  id, carried_over: false, closed_at: null, comment: null, created_at: null, critical: false, drop_reason: null,
  due_date: "2026-12-15", item_code: null, late: false, origin_plan_id: null, overdue: false, owner_id: null,
  points_lost: 0, position: 0, recurring: false, responsible_role: "dtc", source: "gap", started_at: null,
  status: "todo", text_en: id, text_fr: id, verification_en: "", verification_fr: "", verified_by_submission_id: null,
  ...extra,
});

const plan = (id: string, visited_at: string, actions: PlanAction[], extra: Partial<Plan> = {}): Plan => ({
  id, visited_at, actions, agreement: { agreed_at: null, coach: null, coachee: null }, coach_id: "coach",
  coachees: [], completed_at: null, created_at: visited_at, facility_id: "f", facility_name: "CSCom central de Niono",
  facility_path: "", grow: { goal: "", reality: "", options: "", will: "" } as Plan["grow"], status: "in_progress",
  submission_id: id, ...extra,
});

describe("home: actions", () => {
  it("lists an action carried over into several plans once, with its latest plan", () => {
    const a = action("a"), b = action("b", { due_date: "2026-12-01" });
    const plans = [
      plan("p2", "2026-11-20T10:00:00Z", [{ ...a, carried_over: true }, action("c")]),
      plan("p1", "2026-10-20T10:00:00Z", [a, b]),
      plan("p3", "2026-11-28T10:00:00Z", [{ ...a, carried_over: true }, { ...b, carried_over: true }]),
    ];
    const rows = myActions(plans, "me", "coach", "2026-11-30");
    expect(rows.map((r) => [r.action.id, r.plan.id])).toEqual([["b", "p3"], ["a", "p3"], ["c", "p2"]]);
  });

  it("keeps a coachee's own and unassigned open actions only", () => {
    const plans = [plan("p", "2026-11-20T10:00:00Z", [
      action("mine", { owner_id: "me" }), action("theirs", { owner_id: "other" }), action("anyone"),
      action("done", { status: "done" })])];
    expect(myActions(plans, "me", "coachee", "2026-11-30").map((r) => r.action.id).sort()).toEqual(["anyone", "mine"]);
  });
});

describe("home: plans to agree", () => {
  const agreed = { by: "x", at: "2026-11-21T10:00:00Z" };
  const plans = [
    plan("old", "2026-10-01T10:00:00Z", [], { status: "draft" }),
    plan("coachee-agreed", "2026-11-01T10:00:00Z", [], { status: "draft", agreement: { agreed_at: null, coach: null, coachee: agreed } }),
    plan("new", "2026-11-20T10:00:00Z", [], { status: "draft", agreement: { agreed_at: null, coach: agreed, coachee: null } }),
    plan("agreed", "2026-11-25T10:00:00Z", [], { status: "agreed" }),
  ];

  it("lists only drafts still waiting for this user's side, latest visit first", () => {
    expect(plansToAgree(plans, "coachee").map((p) => p.id)).toEqual(["new", "old"]);
    expect(plansToAgree(plans, "coach").map((p) => p.id)).toEqual(["coachee-agreed", "old"]);
  });

  it("lists none to a user who signs no agreement", () => {
    expect(plansToAgree(plans, "manager")).toEqual([]);
  });
});
