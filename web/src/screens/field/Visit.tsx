/** Filling a visit, offline: the template section by section, every item type,
 * critical items marked, comments, the GPS point, the people met; the score
 * shows as the user answers (same rules as the server). Every answer is saved
 * to the phone at once. Submitting queues the visit; a refusal is shown here,
 * next to the items concerned, for fixing. */
import { useEffect, useMemo, useState } from "preact/hooks";
import { useLocation, useRoute } from "preact-iso";
import { Shell } from "../../components/Shell";
import { db, type Draft, type CoacheeRole } from "../../stores/db";
import { editDraft, getDraft, setAnswer, setItemComment, submitDraft, deleteDraft } from "../../stores/drafts";
import { score, isAnswered, isValidAnswer, answerProblem, type AnswerValue, type VisitScore } from "../../domain/scoring";
import { currentPosition } from "../../domain/geo";
import { numericText, parseNumber } from "../../domain/numeric";
import { useLocal } from "../../hooks";
import { dataVersion } from "../../stores/sync";
import { t, tn, pick, formatNumber, formatPercent, type Key } from "../../i18n";
import type { Item, Template, Account } from "../../api/types";
import { DraftState } from "./Visits";
import { ProblemText } from "../../components/ProblemText";
import { fieldReason } from "../../domain/problems";

const COACHEE_ROLES: CoacheeRole[] = ["dtc", "vaccinator", "nurse", "midwife", "community_health_worker", "manager", "other"];

export default function Visit() {
  const { params } = useRoute();
  const { route } = useLocation();
  const id = params.id;
  const [draft, setDraft] = useState<Draft | null | undefined>(undefined);
  const [template, setTemplate] = useState<Template | undefined>();
  const [sectionIndex, setSectionIndex] = useState(0);
  const coachees = useLocal(async () => (await db()).getAll("coachees"));

  useEffect(() => {
    void (async () => {
      const found = await getDraft(id);
      setDraft(found ?? null);
      if (found) setTemplate(await (await db()).get("templates", found.template_code));
    })();
  }, [id]);

  // The outbox sends the visit in the background (sync.ts marks the draft "sent"
  // or "needs_fix" and bumps dataVersion): follow that record live, taking only
  // the sending fields so answers being typed here are never overwritten.
  const version = dataVersion.value;
  useEffect(() => {
    if (version === 0) return;
    let alive = true;
    void getDraft(id).then((found) => {
      if (!alive || !found) return;
      setDraft((current) => (!current || (current.state === found.state && current.plan_id === found.plan_id
        && JSON.stringify(current.problem ?? null) === JSON.stringify(found.problem ?? null) && current.score_percent === found.score_percent) ? current
        : { ...current, state: found.state, problem: found.problem, score_percent: found.score_percent,
          plan_id: found.plan_id }));
    });
    return () => { alive = false; };
  }, [id, version]);

  const live: VisitScore | null = useMemo(
    () => (draft && template ? score(template, draft.answers) : null), [draft, template]);

  if (draft === undefined) return <Shell title={t("visit.title")} back="/visits"><p>{t("common.loading")}</p></Shell>;
  if (draft === null || !template) {
    return <Shell title={t("visit.title")} back="/visits"><p>{t("visit.not_found")}</p></Shell>;
  }
  const locked = draft.state === "queued" || draft.state === "sent";
  const sections = template.sections;
  const lastStep = sections.length; // the closing step: people met, GPS, comment, submit
  const section = sections[sectionIndex];

  // Local state first (the screen answers at once), the phone's copy right after.
  const change = (mutate: (d: Draft) => void) => {
    setDraft((d) => {
      if (!d) return d;
      const next = structuredClone(d);
      mutate(next);
      if (next.state === "needs_fix") next.state = "draft";
      return next;
    });
  };
  const answer = (item: Item, value: AnswerValue) => {
    change((d) => { d.answers[item.code] = { ...(d.answers[item.code] ?? {}), value }; });
    void setAnswer(id, item.code, value);
  };
  const comment = (item: Item, text: string) => {
    change((d) => { d.answers[item.code] = { value: d.answers[item.code]?.value ?? null, comment: text }; });
    void setItemComment(id, item.code, text);
  };
  // In the user's language (domain/problems.ts), shown next to the items concerned.
  const fieldErrors = new Map((draft.problem?.errors ?? []).map((e) => [e.field, fieldReason(e)]));

  const go = (index: number) => {
    setSectionIndex(index);
    window.scrollTo(0, 0);
  };

  return (
    <Shell title={draft.facility_name} back="/visits" sub={
      <div class="visit-head">
        <ScoreBadge live={live} />
        <DraftState draft={draft} />
      </div>}>
      {draft.problem && (
        <div class="problem" role="alert">
          <p><strong>{t("visit.refused")}</strong></p>
          <ProblemText problem={draft.problem} kind="submission" />
        </div>
      )}
      <nav aria-label={t("visit.sections")} class="steps">
        <label for="section-select" class="sr-only">{t("visit.go_to_section")}</label>
        <select id="section-select" value={sectionIndex} onChange={(e) => go(Number((e.target as HTMLSelectElement).value))}>
          {sections.map((s, i) => {
            const sc = live?.sections[i];
            return <option value={i}>{i + 1}. {pick(s, "title")} ({formatNumber(sc?.answered ?? 0, 0)}/{formatNumber(s.items.length, 0)})</option>;
          })}
          <option value={lastStep}>{lastStep + 1}. {t("visit.closing")}</option>
        </select>
      </nav>

      {section ? (
        <section aria-labelledby="section-title">
          <h2 id="section-title">
            {t("visit.section_of", { n: sectionIndex + 1, total: sections.length })} — {pick(section, "title")}
            {live?.sections[sectionIndex]?.percent !== null && live?.sections[sectionIndex] && (
              <span class={`score-chip ${live.sections[sectionIndex].colour}`}> {formatPercent(live.sections[sectionIndex].percent)}</span>
            )}
          </h2>
          {/* Keyed by item code: each field's own state (the text being typed, the
              comment box) belongs to its item, never to a position in the section. */}
          {section.items.map((item) => (
            <ItemField key={item.code} item={item} value={draft.answers[item.code]?.value ?? null}
              comment={draft.answers[item.code]?.comment ?? ""} disabled={locked}
              serverError={fieldErrors.get(`answers.${item.code}`)}
              onAnswer={(v) => answer(item, v)} onComment={(c) => comment(item, c)} />
          ))}
        </section>
      ) : (
        <Closing draft={draft} template={template} live={live} coachees={coachees ?? []} locked={locked}
          fieldErrors={fieldErrors} change={change}
          onSubmit={async () => { await submitDraft(id); setDraft(await getDraft(id) ?? null); }}
          onDelete={async () => {
            if (confirm(t("visit.delete_confirm"))) { await deleteDraft(id); route("/visits"); }
          }} goTo={go} />
      )}

      <div class="pager">
        <button type="button" class="secondary" disabled={sectionIndex === 0} onClick={() => go(sectionIndex - 1)}>
          {t("visit.previous")}
        </button>
        {sectionIndex < lastStep && (
          <button type="button" class="primary" onClick={() => go(sectionIndex + 1)}>{t("visit.next")}</button>
        )}
      </div>
    </Shell>
  );
}

function ScoreBadge({ live }: { live: VisitScore | null }) {
  if (!live) return null;
  return (
    <p class={`score ${live.colour}`} aria-live="polite">
      {t("visit.score")}{t("common.colon")}<strong>{formatPercent(live.percent)}</strong>
      {" · "}{t("visit.answered", { n: live.answered, total: live.total })}
      {live.flagged && <strong class="tag critical">{t("visit.flagged")}</strong>}
    </p>
  );
}

const YES_NO: { value: string; label: Key }[] = [
  { value: "yes", label: "answer.yes" }, { value: "partial", label: "answer.partial" },
  { value: "no", label: "answer.no" },
];

function ItemField({ item, value, comment, disabled, serverError, onAnswer, onComment }: {
  item: Item; value: AnswerValue; comment: string; disabled: boolean; serverError?: string;
  onAnswer: (v: AnswerValue) => void; onComment: (c: string) => void;
}) {
  const name = `item-${item.code}`;
  const [typed, setTyped] = useState(typeof value === "number" ? String(value) : "");
  const text = numericText(typed, value);
  const [showComment, setShowComment] = useState(comment !== "");
  const problem = value !== null && item.type === "numeric" && value !== "na" ? answerProblem(item, value) : null;
  const allowNa = item.allow_na !== false;
  const options: { value: string; label: string }[] = item.type === "yes_no"
    ? YES_NO.map((o) => ({ value: o.value, label: t(o.label) }))
    : item.type === "choice" ? (item.choices ?? []).map((c) => ({ value: c.value, label: pick(c, "label") })) : [];
  if (allowNa && item.type !== "numeric") options.push({ value: "na", label: t("answer.na") });
  const [low, high] = item.valid_range ?? [null, null];
  const helpId = `${name}-help`;
  const errorId = `${name}-error`;
  return (
    <fieldset class={`item ${item.critical ? "critical" : ""} ${isValidAnswer(item, value === null ? undefined : { value }) ? "answered" : ""}`}
      id={name} aria-describedby={item.help_fr || item.help_en ? helpId : undefined}>
      <legend>
        {item.critical && <span class="tag critical">{t("item.critical")}</span>} {pick(item, "label")}
      </legend>
      {(item.help_fr || item.help_en) && <p class="help" id={helpId}>{pick(item, "help")}</p>}
      {item.type === "numeric" ? (
        <div class="numeric">
          <label for={`${name}-value`}>
            {t("item.number")}{low !== null && high !== null ? ` (${formatNumber(low, 3)} – ${formatNumber(high, 3)}${item.unit ? ` ${item.unit}` : ""})` : ""}
          </label>
          <input id={`${name}-value`} type="number" inputMode="decimal" step="any"
            min={low ?? undefined} max={high ?? undefined} disabled={disabled || value === "na"}
            value={text} aria-invalid={problem || serverError ? "true" : undefined}
            aria-describedby={problem || serverError ? errorId : undefined}
            onInput={(e) => {
              const raw = (e.target as HTMLInputElement).value;
              setTyped(raw);
              onAnswer(parseNumber(raw));
            }} />
          {allowNa && (
            <label class="inline">
              <input type="checkbox" checked={value === "na"} disabled={disabled}
                onChange={(e) => {
                  const na = (e.target as HTMLInputElement).checked;
                  onAnswer(na ? "na" : parseNumber(typed));
                }} />
              {t("answer.na")}
            </label>
          )}
        </div>
      ) : (
        <div class={`choices ${item.type === "yes_no" ? "row" : ""}`}>
          {options.map((o) => (
            <label class={`choice ${value === o.value ? "selected" : ""}`}>
              <input type="radio" name={name} value={o.value} checked={value === o.value} disabled={disabled}
                onChange={() => onAnswer(o.value)} />
              <span>{o.label}</span>
            </label>
          ))}
        </div>
      )}
      {(problem || serverError) && (
        <p class="error" id={errorId}>
          {problem === "out_of_range" ? t("item.out_of_range", { low: low ?? "—", high: high ?? "—" })
            : problem === "na_not_allowed" ? t("item.na_not_allowed")
            : problem ? t("item.not_a_number") : serverError}
        </p>
      )}
      {showComment ? (
        <>
          <label for={`${name}-comment`}>{t("item.comment")}</label>
          <textarea id={`${name}-comment`} rows={2} disabled={disabled} value={comment} maxLength={2000}
            onInput={(e) => onComment((e.target as HTMLTextAreaElement).value)} />
        </>
      ) : (
        !disabled && <button type="button" class="link" onClick={() => setShowComment(true)}>{t("item.add_comment")}</button>
      )}
    </fieldset>
  );
}

function Closing({ draft, template, live, coachees, locked, fieldErrors, change, onSubmit, onDelete, goTo }: {
  draft: Draft; template: Template; live: VisitScore | null; coachees: Account[]; locked: boolean;
  fieldErrors: Map<string, string>; change: (m: (d: Draft) => void) => void;
  onSubmit: () => Promise<void>; onDelete: () => Promise<void>; goTo: (i: number) => void;
}) {
  const [locating, setLocating] = useState(false);
  const [busy, setBusy] = useState(false);
  const here = coachees.filter((c) => c.facility_id === draft.facility_id);
  const missing = template.sections.flatMap((s, i) => s.items
    .filter((item) => item.required !== false && !isAnswered(draft.answers[item.code]))
    .map((item) => ({ item, index: i })));
  const invalid = template.sections.flatMap((s, i) => s.items
    .filter((item) => { const v = draft.answers[item.code]?.value; return v !== null && v !== undefined && answerProblem(item, v) !== null; })
    .map((item) => ({ item, index: i })));

  const save = (mutate: (d: Draft) => void) => { change(mutate); void editDraft(draft.id, mutate); };

  async function locate() {
    setLocating(true);
    const point = await currentPosition();
    setLocating(false);
    if (point) save((d) => { d.gps = point; });
    else alert(t("visit.gps_failed"));
  }

  return (
    <section aria-labelledby="closing-title">
      <h2 id="closing-title">{t("visit.closing")}</h2>
      <fieldset>
        <legend>{t("visit.people_met")}</legend>
        {!here.length && <p class="muted">{t("visit.no_coachees")}</p>}
        {here.map((c) => {
          const met = draft.coachees.find((x) => x.id === c.id);
          return (
            <div class="person">
              <label class="inline">
                <input type="checkbox" checked={!!met} disabled={locked} onChange={(e) => {
                  const on = (e.target as HTMLInputElement).checked;
                  save((d) => {
                    d.coachees = d.coachees.filter((x) => x.id !== c.id);
                    if (on) d.coachees.push({ id: c.id, name: c.display_name, role: guessRole(c.username) });
                  });
                }} />
                {c.display_name}
              </label>
              {met && (
                <>
                  <label for={`role-${c.id}`} class="sr-only">{t("visit.job_of", { name: c.display_name })}</label>
                  <select id={`role-${c.id}`} value={met.role} disabled={locked} onChange={(e) => {
                    const r = (e.target as HTMLSelectElement).value as CoacheeRole;
                    save((d) => { d.coachees = d.coachees.map((x) => (x.id === c.id ? { ...x, role: r } : x)); });
                  }}>
                    {COACHEE_ROLES.map((r) => <option value={r}>{t(`job.${r}` as Key)}</option>)}
                  </select>
                </>
              )}
            </div>
          );
        })}
      </fieldset>
      <fieldset>
        <legend>{t("visit.gps")}</legend>
        {draft.gps ? (
          <p>{t("visit.gps_point", { lat: formatNumber(draft.gps.lat, 5, true), lon: formatNumber(draft.gps.lon, 5, true) })}
            {draft.gps.accuracy_m !== null && ` (± ${formatNumber(Math.round(draft.gps.accuracy_m), 0)} m)`}</p>
        ) : <p class="muted">{t("visit.gps_none")}</p>}
        {!locked && (
          <button type="button" class="secondary" onClick={locate} disabled={locating}>
            {locating ? t("facilities.locating") : t("visit.gps_take")}
          </button>
        )}
      </fieldset>
      <label for="visit-comment">{t("visit.comment")}</label>
      <textarea id="visit-comment" rows={3} maxLength={4000} disabled={locked} value={draft.comment}
        onInput={(e) => { const v = (e.target as HTMLTextAreaElement).value; save((d) => { d.comment = v; }); }} />
      {fieldErrors.size > 0 && (
        <ul class="error">{[...fieldErrors].filter(([f]) => !f.startsWith("answers.")).map(([f, r]) => <li>{f}: {r}</li>)}</ul>
      )}
      {live && (
        <div class="summary">
          <h3>{t("visit.summary")}</h3>
          <ul class="list compact">
            {template.sections.map((s, i) => (
              <li><span>{pick(s, "title")}</span>
                <span class={`score-chip ${live.sections[i].colour}`}>{formatPercent(live.sections[i].percent)}</span></li>
            ))}
          </ul>
        </div>
      )}
      {!locked && (missing.length > 0 || invalid.length > 0) && (
        <div class="notice">
          <p>{tn("visit.missing", missing.length + invalid.length)}</p>
          <ul>
            {[...invalid, ...missing].slice(0, 8).map(({ item, index }) => (
              <li><button type="button" class="link" onClick={() => goTo(index)}>{pick(item, "label")}</button></li>
            ))}
          </ul>
        </div>
      )}
      {!locked && (
        <div class="stack">
          <button type="button" class="primary big" disabled={busy || missing.length > 0 || invalid.length > 0}
            onClick={async () => { setBusy(true); await onSubmit(); setBusy(false); }}>
            {draft.problem ? t("visit.resubmit") : t("visit.submit")}
          </button>
          <button type="button" class="danger link" onClick={onDelete}>{t("visit.delete")}</button>
        </div>
      )}
      {draft.state === "queued" && <p class="notice">{t("visit.queued_note")}</p>}
      {draft.state === "sent" && (
        <p class="ok-note">
          {t("visit.sent_note")}{" "}
          {draft.plan_id ? <a href={`/plans/${draft.plan_id}`}>{t("visit.open_plan")}</a> : t("visit.plan_soon")}
        </p>
      )}
    </section>
  );
}

function guessRole(username: string): CoacheeRole {
  if (username.startsWith("dtc")) return "dtc";
  if (username.startsWith("vacc")) return "vaccinator";
  return "other";
}
