/** One improvement plan: agreement (coach and coachee), GROW notes (the coach
 * writes them), actions and their status, evidence with upload progress and the
 * coach's review. Every change is applied to the phone's copy at once and
 * queued with its own id; a marker shows what is not sent yet. */
import { useEffect, useRef, useState } from "preact/hooks";
import { useLocation, useRoute } from "preact-iso";
import { Shell } from "../../components/Shell";
import { db, type OutboxItem, type PendingFile } from "../../stores/db";
import { list, retryNow, discard } from "../../stores/outbox";
import { queue, touched } from "../../stores/sync";
import { uploadProgress } from "../../stores/transport";
import { addEvidence } from "../../stores/evidence";
import { session } from "../../stores/session";
import { useLocal } from "../../hooks";
import { t, pick, formatDate, formatDateTime, type Key } from "../../i18n";
import { ProblemText } from "../../components/ProblemText";
import { sendState, refusalOf, KIND_LABEL, type SendState } from "../../domain/sending";
import type { ActionStatus, Evidence, Plan as PlanT, PlanAction, Schemas } from "../../api/types";

type ReviewDecision = Schemas["ReviewRequest"]["decision"];
import { statusLabel } from "./Actions";
import { agreementSide, awaitsVisitPlan } from "../../domain/plans";
import { planStatus, awaitedVisits } from "./Plans";

async function changePlan(id: string, mutate: (p: PlanT) => void) {
  const database = await db();
  const plan = await database.get("plans", id);
  if (!plan) return;
  mutate(plan);
  await database.put("plans", plan);
  touched();
}

/** Which moves the user may make (gateway + planner say the same; they decide). */
function moves(action: PlanAction, role: string, planStatusValue: string): { to: ActionStatus; label: Key }[] {
  if (planStatusValue === "draft") return [];
  const editor = role === "coach" || role === "admin";
  const found: { to: ActionStatus; label: Key }[] = [];
  if (action.status === "todo") found.push({ to: "in_progress", label: "action.start" });
  if (action.status === "in_progress") found.push({ to: "awaiting_review", label: "action.ask_review" });
  if (editor && action.status === "awaiting_review") {
    found.push({ to: "done", label: "action.mark_done" }, { to: "in_progress", label: "action.send_back" });
  }
  if (editor && ["todo", "in_progress", "awaiting_review"].includes(action.status)) {
    found.push({ to: "dropped", label: "action.drop" });
  }
  return found;
}

export default function Plan() {
  const { params } = useRoute();
  const id = params.id;
  const me = session.value?.account;
  const role = me?.role ?? "";
  const plan = useLocal(async () => (await db()).get("plans", id), [id]);
  const pending = useLocal(async () => (await list()).filter((i) => i.ref === id || i.plan_id === id), [id]);
  const evidence = useLocal(async () => (await db()).getAll("evidence"), [id]);
  const files = useLocal(async () => (await db()).getAll("files"), [id]);
  const awaited = useLocal(awaitedVisits) ?? [];
  // Evidence and pending files change the cards' heights: scroll once all are read.
  useScrollToAction(plan !== undefined && pending !== undefined && evidence !== undefined && files !== undefined);

  if (plan === undefined) return <Shell title={t("plan.title")} back="/plans"><p>{t("plan.not_found")}</p></Shell>;

  const waiting = (ref: string) => (pending ?? []).filter((i) => i.ref === ref || (i.kind === "evidence" && i.plan_id === id && ref === id));
  const myside = agreementSide(role);
  const agreedByMe = myside ? !!plan.agreement[myside] : true;
  const agreeQueued = (pending ?? []).some((i) => i.kind === "plan.agree");

  async function agree() {
    await changePlan(id, (p) => {
      if (myside) p.agreement[myside] = { by: me!.id, at: new Date().toISOString() };
    });
    await queue("plan.agree", id);
  }

  async function move(action: PlanAction, to: ActionStatus) {
    let reason = "";
    if (to === "dropped") {
      reason = prompt(t("action.drop_reason")) ?? "";
      if (!reason.trim()) return;
    }
    await changePlan(id, (p) => {
      const a = p.actions.find((x) => x.id === action.id);
      if (a) a.status = to;
    });
    await queue("action.status", action.id, { status: to, comment: "", reason }, { plan_id: id });
  }

  const sorted = [...plan.actions].sort((a, b) => Number(b.overdue) - Number(a.overdue) || a.due_date.localeCompare(b.due_date));

  return (
    <Shell title={plan.facility_name} back="/plans">
      <p>
        {t("plan.status")}{t("common.colon")}<strong>{planStatus(plan.status)}</strong> · {t("plan.visit_of", { date: formatDate(plan.visited_at) })}
        <SendTag state={sendState(waiting(id))} />
      </p>
      {awaitsVisitPlan(plan, awaited) && <p class="notice" role="status">{t("plan.updating")}</p>}
      <PendingProblems items={(pending ?? []).filter((i) => i.state === "needs_fix")} />
      <section aria-labelledby="agreement">
        <h2 id="agreement">{t("plan.agreement")}</h2>
        <ul class="list compact">
          <li><span>{t("plan.coach_side")}</span><span>{plan.agreement.coach ? formatDateTime(plan.agreement.coach.at) : t("plan.not_yet")}</span></li>
          <li><span>{t("plan.coachee_side")}</span><span>{plan.agreement.coachee ? formatDateTime(plan.agreement.coachee.at) : t("plan.not_yet")}</span></li>
        </ul>
        {plan.status === "draft" && myside && !agreedByMe && (
          <button type="button" class="primary big" onClick={agree}>{t("plan.agree")}</button>
        )}
        {agreeQueued && <p class="notice">{t("plan.agree_queued")}</p>}
      </section>
      <Grow plan={plan} editable={role === "coach" || role === "admin"} />
      <section aria-labelledby="actions">
        <h2 id="actions">{t("plan.actions", { n: plan.actions.length })}</h2>
        {sorted.map((action) => (
          <ActionCard action={action} planId={id} planStatusValue={plan.status} role={role}
            evidence={(evidence ?? []).filter((e) => e.action_id === action.id)}
            files={(files ?? []).filter((f) => f.action_id === action.id)}
            changes={(pending ?? []).filter((i) => i.ref === action.id)}
            fileChanges={(pending ?? []).filter((i) => i.kind === "evidence")}
            onMove={(to) => move(action, to)} />
        ))}
      </section>
    </Shell>
  );
}

/** `/plans/{id}#action-{id}` (an action tapped on the home screen): once the plan
 * is on screen (it is read from the phone after the first render, so the browser
 * found no such card to scroll to), bring the action's card under the title bar
 * and focus it. Once per link followed: later re-renders leave the scroll alone. */
function useScrollToAction(ready: boolean) {
  const { url } = useLocation();
  const done = useRef("");
  useEffect(() => {
    const hash = typeof location !== "undefined" ? location.hash : "";
    const target = `${url}${hash}`;
    if (!ready || !hash.startsWith("#action-") || done.current === target) return;
    const card = document.getElementById(decodeURIComponent(hash.slice(1)));
    if (!card) return;
    done.current = target;
    const head = document.querySelector<HTMLElement>(".head")?.offsetHeight ?? 0;
    window.scrollTo(0, card.getBoundingClientRect().top + window.scrollY - head - 8);
    card.focus({ preventScroll: true });
  }, [ready, url]);
}

function PendingProblems({ items }: { items: OutboxItem[] }) {
  if (!items.length) return null;
  return (
    <div class="problem" role="alert">
      {items.map((i) => (
        <div>
          <p><strong>{t("sync.refused")} {t(KIND_LABEL[i.kind])}</strong></p>
          <ProblemText problem={i.problem} kind={i.kind} />
          <button type="button" class="link" onClick={() => retryNow(i.id).then(touched)}>{t("sync.retry")}</button>
        </div>
      ))}
    </div>
  );
}

/** "Not sent" while a change waits; "Refused" (to fix, never sent by waiting) once the server said no. */
function SendTag({ state }: { state: SendState }) {
  if (state === "refused") return <span class="tag critical">{t("common.refused")}</span>;
  if (state === "waiting") return <span class="tag unsynced">{t("common.unsynced")}</span>;
  return null;
}

function Grow({ plan, editable }: { plan: PlanT; editable: boolean }) {
  const [notes, setNotes] = useState(plan.grow);
  const [saved, setSaved] = useState(true);
  const fields: { key: keyof PlanT["grow"]; label: Key }[] = [
    { key: "goal", label: "grow.goal" }, { key: "reality", label: "grow.reality" },
    { key: "options", label: "grow.options" }, { key: "will", label: "grow.will" },
  ];
  async function save(event: Event) {
    event.preventDefault();
    await changePlan(plan.id, (p) => { p.grow = notes; });
    await queue("plan.grow", plan.id, notes, { id: crypto.randomUUID() });
    setSaved(true);
  }
  return (
    <section aria-labelledby="grow" class="grow">
      <h2 id="grow">{t("grow.title")}</h2>
      {editable ? (
        <form onSubmit={save}>
          {fields.map((f) => (
            <>
              <label for={`grow-${f.key}`}>{t(f.label)}</label>
              <textarea id={`grow-${f.key}`} maxLength={4000} value={notes[f.key]}
                onInput={(e) => { setNotes({ ...notes, [f.key]: (e.target as HTMLTextAreaElement).value }); setSaved(false); }} />
            </>
          ))}
          <button type="submit" class="secondary" disabled={saved}>{t("grow.save")}</button>
        </form>
      ) : (
        <dl>
          {fields.map((f) => (<><dt>{t(f.label)}</dt><dd>{plan.grow[f.key] || "—"}</dd></>))}
        </dl>
      )}
    </section>
  );
}

function ActionCard({ action, planId, planStatusValue, role, evidence, files, changes, fileChanges, onMove }: {
  action: PlanAction; planId: string; planStatusValue: string; role: string; evidence: Evidence[];
  files: PendingFile[];
  /** the outbox's items for this action (its status changes), and for evidence files */
  changes: OutboxItem[]; fileChanges: OutboxItem[];
  onMove: (to: ActionStatus) => void;
}) {
  const refusedMove = refusalOf(changes);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const progress = uploadProgress.value;
  const open = ["todo", "in_progress", "awaiting_review"].includes(action.status);
  const canUpload = open && role !== "manager" && role !== "champion" ? true : false;

  async function picked(event: Event, fromCamera: boolean) {
    const input = event.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = "";
    if (!file) return;
    setBusy(true);
    setError(null);
    try {
      await addEvidence(file, action, planId, fromCamera);
    } catch (e) {
      setError(String(e).includes("too_large") ? t("evidence.too_large") : t("evidence.failed"));
    } finally {
      setBusy(false);
    }
  }

  return (
    <article class={`card action ${action.overdue ? "overdue" : ""}`} id={`action-${action.id}`} tabIndex={-1} aria-labelledby={`title-${action.id}`}>
      <h3 id={`title-${action.id}`}>
        {action.critical && <span class="tag critical">{t("item.critical")}</span>} {pick(action, "text")}
      </h3>
      <p class="meta">
        {statusLabel(action.status)} ·{" "}
        {action.overdue ? <strong class="late">{t("action.overdue_since", { date: formatDate(action.due_date) })}</strong>
          : t("action.due", { date: formatDate(action.due_date) })}
        <SendTag state={sendState(changes)} />
      </p>
      {refusedMove && <div class="problem"><ProblemText problem={refusedMove.problem} kind={refusedMove.kind} /></div>}
      {pick(action, "verification") && <p class="help">{t("action.verification")}{t("common.colon")}{pick(action, "verification")}</p>}
      <div class="buttons">
        {moves(action, role, planStatusValue).map((m) => (
          <button type="button" class={m.to === "dropped" ? "link danger" : "secondary"} onClick={() => onMove(m.to)}>{t(m.label)}</button>
        ))}
      </div>
      {(evidence.length > 0 || files.length > 0) && <h4>{t("evidence.title")}</h4>}
      {files.map((f) => {
        // A file the server refused never goes by waiting: say so, why, and offer to remove it.
        const refused = refusalOf(fileChanges.filter((i) => i.ref === f.id));
        return refused ? (
          <div class="evidence refused" role="alert">
            <span class="tag critical">{t("common.refused")}</span>
            <div>
              <div>{f.filename} · {t("evidence.size", { n: Math.round(f.size / 1024) })}</div>
              <ProblemText problem={refused.problem} kind="evidence" />
              <p class="muted">{t("evidence.refused_upload")}</p>
              <button type="button" class="link danger" onClick={() => discard(refused.id).then(touched)}>
                {t("evidence.remove")}
              </button>
            </div>
          </div>
        ) : (
          <div class="evidence">
            <span class="tag unsynced">{t("common.unsynced")}</span>
            <div>
              <div>{f.filename} · {t("evidence.size", { n: Math.round(f.size / 1024) })}</div>
              <label for={`progress-${f.id}`} class="sr-only">{t("evidence.progress", { name: f.filename })}</label>
              <progress id={`progress-${f.id}`} max={1} value={progress[f.id] ?? 0} />
              <span class="muted">{t("evidence.waiting")}</span>
            </div>
          </div>
        );
      })}
      {evidence.map((e) => (
        <div class="evidence">
          {e.thumbnail_url && <img src={e.thumbnail_url} alt={t("evidence.thumbnail", { name: e.filename ?? "" })} />}
          <div>
            <div>{e.filename}</div>
            <div class="meta">{evidenceState(e)}</div>
            {e.review?.comment && <div class="meta">{t("evidence.comment", { text: e.review.comment })}</div>}
            {e.refusal && <div class="error">{pick(e.refusal, "reason")}</div>}
            {(role === "coach" || role === "admin") && e.status === "accepted" && !e.review && <Review evidence={e} />}
          </div>
        </div>
      ))}
      {canUpload && (
        <div class="buttons">
          <label class="button secondary">
            {t("evidence.camera")}
            <input type="file" accept="image/*" capture="environment" class="sr-only" disabled={busy}
              onChange={(e) => picked(e, true)} />
          </label>
          <label class="button secondary">
            {t("evidence.file")}
            <input type="file" accept="image/*,application/pdf" class="sr-only" disabled={busy}
              onChange={(e) => picked(e, false)} />
          </label>
        </div>
      )}
      {busy && <p class="muted">{t("evidence.preparing")}</p>}
      {error && <p class="error" role="alert">{error}</p>}
    </article>
  );
}

function evidenceState(e: Evidence): string {
  if (e.review) {
    const decision = e.review.decision;
    return decision === "approved" ? t("evidence.approved") : decision === "rejected" ? t("evidence.rejected")
      : decision === "needs_more" ? t("evidence.more_needed") : decision;
  }
  if (e.status === "refused") return t("evidence.refused");
  if (e.status === "pending_upload") return t("evidence.checking");
  if (e.status === "withdrawn") return t("evidence.withdrawn");
  return t("evidence.to_review");
}

/** The coach's review of one piece of evidence (a comment is required to reject or ask for more). */
function Review({ evidence }: { evidence: Evidence }) {
  const [comment, setComment] = useState("");
  const [error, setError] = useState(false);
  async function decide(decision: ReviewDecision) {
    if (decision !== "approved" && !comment.trim()) { setError(true); return; }
    const database = await db();
    await database.put("evidence", { ...evidence, review: { decision, comment, reviewed_by: session.value?.account.id ?? "", reviewed_at: new Date().toISOString() } });
    touched();
    await queue("evidence.review", evidence.id, { decision, comment }, { plan_id: evidence.plan_id });
  }
  return (
    <div class="review">
      <label for={`review-${evidence.id}`}>{t("review.comment")}</label>
      <textarea id={`review-${evidence.id}`} rows={2} value={comment} aria-invalid={error ? "true" : undefined}
        onInput={(e) => { setComment((e.target as HTMLTextAreaElement).value); setError(false); }} />
      {error && <p class="error">{t("review.comment_required")}</p>}
      <div class="buttons">
        <button type="button" class="primary" onClick={() => decide("approved")}>{t("review.approve")}</button>
        <button type="button" class="secondary" onClick={() => decide("needs_more")}>{t("review.more")}</button>
        <button type="button" class="link danger" onClick={() => decide("rejected")}>{t("review.reject")}</button>
      </div>
    </div>
  );
}
