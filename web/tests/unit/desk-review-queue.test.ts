/** The review queue says what each piece of evidence is for: the action's text,
 * its verification and who sent it, from its plan, each plan read once. */
import { describe, expect, it, vi } from "vitest";
import { lang } from "../../src/i18n";
import type { Plan } from "../../src/api/types";
import type { QueueEvidence } from "../../src/desk/types";
import { PlanBook, uploaderText } from "../../src/desk/review";
import { counted } from "../../src/desk/format";

const action = (id: string, text: string, verification = "") => ({
  id, text_fr: text, text_en: `${text} (en)`, verification_fr: verification, verification_en: verification ? `${verification} (en)` : "",
  status: "awaiting_review", critical: false, due_date: "2026-12-01",
}) as unknown as Plan["actions"][number];

const plan = (id: string, actions: Plan["actions"]) => ({
  id, actions, coach_id: "u-coach-niono",
  coachees: [{ id: "u-dtc-niono", name: "Fatoumata Diarra", role: "dtc" }],
}) as unknown as Plan;

const evidence = (id: string, planId: string, actionId: string, by = "u-dtc-niono") => ({
  id, plan_id: planId, action_id: actionId, uploaded_by: by, filename: `${id}.jpg`,
}) as unknown as QueueEvidence;

describe("review queue: what the evidence is for", () => {
  it("reads each plan once, however many items name it, and not again on a reload", async () => {
    const plans: Record<string, Plan> = {
      p1: plan("p1", [action("a1", "Tenir les fiches de stock à jour", "Fiche du mois signée"), action("a2", "Relever la température")]),
      p2: plan("p2", [action("a3", "Afficher le calendrier")]),
    };
    const read = vi.fn(async (id: string) => plans[id]);
    const book = new PlanBook(read);
    const items = [evidence("e1", "p1", "a1"), evidence("e2", "p1", "a2"), evidence("e3", "p2", "a3"),
      evidence("e4", "p1", "a1", "u-coach-niono"), evidence("e5", "p2", "a3")];
    const found = await book.purposes(items);
    expect(read).toHaveBeenCalledTimes(2);
    expect(found.get("e1")?.action?.verification_fr).toBe("Fiche du mois signée");
    expect(found.get("e2")?.action?.text_fr).toBe("Relever la température");
    expect(found.get("e3")?.action?.id).toBe("a3");
    await book.purposes(items);
    expect(read).toHaveBeenCalledTimes(2);

    lang.value = "fr";
    expect(uploaderText(found.get("e1"), "u-dtc-niono", "u-coach-niono")).toBe("Fatoumata Diarra");
    expect(uploaderText(found.get("e4"), "u-coach-niono", "u-coach-niono")).toBe("vous");
    expect(uploaderText(found.get("e4"), "u-coach-niono", "u-champion")).toBe("le coach du plan");
    expect(uploaderText(undefined, "u-someone", "u-coach-niono")).toBe("u-someone");
  });

  it("reads a plan again, once, when an item names an action added since", async () => {
    let actions = [action("a1", "Première action")];
    const read = vi.fn(async (id: string) => plan(id, actions));
    const book = new PlanBook(read);
    await book.purposes([evidence("e1", "p1", "a1")]);
    actions = [...actions, action("a9", "Action ajoutée par le coach")];
    const found = await book.purposes([evidence("e1", "p1", "a1"), evidence("e2", "p1", "a9")]);
    expect(read).toHaveBeenCalledTimes(2);
    expect(found.get("e2")?.action?.text_fr).toBe("Action ajoutée par le coach");
    await book.purposes([evidence("e3", "p1", "gone")]);
    await book.purposes([evidence("e3", "p1", "gone")]);
    expect(read).toHaveBeenCalledTimes(3);
  });

  it("forgets a failed read, so the next reload tries again", async () => {
    const read = vi.fn().mockRejectedValueOnce(new Error("502")).mockResolvedValue(plan("p1", [action("a1", "x")]));
    const book = new PlanBook(read);
    expect((await book.purposes([evidence("e1", "p1", "a1")])).get("e1")?.action).toBeNull();
    expect((await book.purposes([evidence("e1", "p1", "a1")])).get("e1")?.action?.id).toBe("a1");
  });

  it("names a sender the plan does not list (the DTC, not met on the visit) from their account, read once", async () => {
    lang.value = "fr";
    const met = { ...plan("p1", [action("a1", "Retirer les flacons périmés")]),
      coachees: [{ id: "staff-vacc", name: "Kadiatou Touré", role: "vaccinator" }] } as unknown as Plan;
    const readName = vi.fn(async (id: string) => (id === "u-dtc-niono" ? "Fatoumata Diarra" : null));
    const book = new PlanBook(async () => met, readName);
    const items = [evidence("e1", "p1", "a1"), evidence("e2", "p1", "a1"), evidence("e3", "p1", "a1", "u-gone"),
      evidence("e4", "p1", "a1", "staff-vacc"), evidence("e5", "p1", "a1", "u-coach-niono")];
    const found = await book.purposes(items);
    expect(uploaderText(found.get("e1"), "u-dtc-niono", "u-coach-niono")).toBe("Fatoumata Diarra");
    expect(uploaderText(found.get("e2"), "u-dtc-niono", "u-coach-niono")).toBe("Fatoumata Diarra");
    // No account to be had: the id, as the last resort.
    expect(uploaderText(found.get("e3"), "u-gone", "u-coach-niono")).toBe("u-gone");
    // Named by the plan, or the plan's coach: no account read for them.
    expect(uploaderText(found.get("e4"), "staff-vacc", "u-coach-niono")).toBe("Kadiatou Touré");
    expect(uploaderText(found.get("e5"), "u-coach-niono", "u-champion")).toBe("le coach du plan");
    expect(readName.mock.calls.map(([id]) => id).sort()).toEqual(["u-dtc-niono", "u-gone"]);
    await book.purposes(items); // a live reload reads no account again
    expect(readName).toHaveBeenCalledTimes(2);
  });

  it("names a coachee the visit recorded without a name from their account", async () => {
    const unnamed = { ...plan("p1", [action("a1", "x")]),
      coachees: [{ id: "u-dtc-niono", name: "", role: "dtc" }] } as unknown as Plan;
    const book = new PlanBook(async () => unnamed, async () => "Fatoumata Diarra");
    const found = await book.purposes([evidence("e1", "p1", "a1")]);
    expect(found.get("e1")?.uploader).toEqual({ name: "Fatoumata Diarra", role: "coachee" });
    const without = new PlanBook(async () => unnamed);
    expect(uploaderText((await without.purposes([evidence("e1", "p1", "a1")])).get("e1"), "u-dtc-niono", "me"))
      .toBe("u-dtc-niono");
  });

  it("forgets a failed account read, so the next reload tries again", async () => {
    const readName = vi.fn().mockRejectedValueOnce(new Error("502")).mockResolvedValue("Fatoumata Diarra");
    const book = new PlanBook(async () => plan("p1", [action("a1", "x")]), readName);
    const by = "u-dtc-other";
    expect((await book.purposes([evidence("e1", "p1", "a1", by)])).get("e1")?.uploader).toBeNull();
    expect((await book.purposes([evidence("e1", "p1", "a1", by)])).get("e1")?.uploader)
      .toEqual({ name: "Fatoumata Diarra", role: "account" });
  });

  it("counts the waiting items with the language's plural (French: 0 and 1 singular)", () => {
    lang.value = "fr";
    expect(counted("desk.review.list", 1)).toBe("1 preuve en attente");
    expect(counted("desk.review.list", 0)).toBe("0 preuve en attente");
    expect(counted("desk.review.list", 2)).toBe("2 preuves en attente, les plus anciennes d'abord");
    lang.value = "en";
    expect(counted("desk.review.list", 1)).toBe("1 item waiting");
    expect(counted("desk.review.list", 0)).toBe("0 items waiting, oldest first");
    expect(counted("desk.review.list", 3)).toBe("3 items waiting, oldest first");
    lang.value = "fr";
  });
});
