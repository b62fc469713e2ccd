/** Visits on the phone: drafts saved as the user types, then queued for sending.
 *
 * Every change is written to IndexedDB at once (writes to one draft are chained so
 * they land in order): a killed tab or a flat battery loses nothing. Submitting
 * puts the visit in the outbox under its own id, which is the submission's
 * client id: however often the sync retries, the server keeps one visit. */
import { db, type Draft } from "./db";
import { newId } from "./outbox";
import { queue, touched } from "./sync";
import type { AnswerValue } from "../domain/scoring";
import type { SubmissionRequest, Template } from "../api/types";

export async function createDraft(template: Template, facility: { id: string; name: string }): Promise<Draft> {
  const now = new Date().toISOString();
  const draft: Draft = {
    id: newId(), facility_id: facility.id, facility_name: facility.name,
    template_code: template.code, template_version: template.version, answers: {}, comment: "",
    coachees: [], gps: null, started_at: now, updated_at: now, state: "draft",
  };
  await (await db()).put("drafts", draft);
  touched();
  return draft;
}

export async function getDraft(id: string): Promise<Draft | undefined> {
  return (await db()).get("drafts", id);
}

const chains = new Map<string, Promise<unknown>>();

/** Change a draft; the changes of one draft are applied one after the other. */
export function editDraft(id: string, change: (draft: Draft) => void): Promise<Draft | undefined> {
  const previous = chains.get(id) ?? Promise.resolve();
  const next = previous.then(async () => {
    const database = await db();
    const tx = database.transaction("drafts", "readwrite");
    const draft = await tx.store.get(id);
    if (!draft) return undefined;
    change(draft);
    draft.updated_at = new Date().toISOString();
    if (draft.state === "needs_fix") draft.state = "draft"; // being fixed
    await tx.store.put(draft);
    await tx.done;
    return draft;
  });
  chains.set(id, next.catch(() => undefined));
  return next;
}

export function setAnswer(id: string, code: string, value: AnswerValue) {
  return editDraft(id, (d) => { d.answers[code] = { ...(d.answers[code] ?? {}), value }; });
}

export function setItemComment(id: string, code: string, comment: string) {
  return editDraft(id, (d) => {
    d.answers[code] = { value: d.answers[code]?.value ?? null, comment };
  });
}

export async function deleteDraft(id: string): Promise<void> {
  await (await db()).delete("drafts", id);
  touched();
}

export function toRequest(draft: Draft): SubmissionRequest {
  const answers = Object.entries(draft.answers)
    .filter(([, a]) => a && a.value !== null && a.value !== undefined && a.value !== "")
    .map(([item, a]) => ({ item, value: a!.value as never, comment: a!.comment ?? "" }));
  return {
    id: draft.id,
    facility_id: draft.facility_id,
    template_code: draft.template_code,
    template_version: draft.template_version,
    visited_at: draft.started_at,
    coachees: draft.coachees,
    answers,
    gps: draft.gps,
    comment: draft.comment,
  };
}

/** Put the visit in the outbox (or back in it after a fix). */
export async function submitDraft(id: string): Promise<void> {
  const draft = await editDraft(id, (d) => { d.state = "queued"; d.problem = null; });
  if (!draft) return;
  const body = toRequest(draft);
  const database = await db();
  const existing = await database.getFromIndex("outbox", "id", id);
  if (existing) {
    existing.body = body;
    existing.state = "waiting";
    existing.next_at = 0;
    existing.problem = null;
    await database.put("outbox", existing);
  }
  await queue("submission", id, body, { id });
}
