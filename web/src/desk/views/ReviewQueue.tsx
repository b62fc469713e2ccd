/** The review queue: evidence waiting for the coach, oldest first, with its
 * thumbnail, when and where the photo was taken and how far from the facility.
 * Approve, reject or ask for more (a comment is required for the last two).
 *
 * Keyboard: ↑/↓ (or k/j) move between items, A approves, R rejects, M asks for
 * more; the comment box takes the focus, Enter sends it, Escape cancels. Every
 * action also has its button. New, reviewed or withdrawn evidence anywhere in
 * the coach's scope updates the queue over SSE. */
import { useEffect, useRef, useState } from "preact/hooks";
import { t, pick, formatDateTime, formatNumber } from "../../i18n";
import { session } from "../../stores/session";
import { PlanBook, uploaderText, type EvidencePurpose } from "../review";
import { desk, ApiProblem } from "../api";
import { counted, num } from "../format";
import type { QueueEvidence } from "../types";
import { Problem, Loading } from "../widgets";
import { useLiveReload } from "../live";

type Decision = "approved" | "rejected" | "needs_more";

export function distanceText(metres: number | null): string {
  if (metres == null) return t("desk.review.no_distance");
  return metres < 1000 ? t("desk.review.metres", { n: Math.round(metres) })
    : t("desk.review.km", { n: num(metres / 1000) });
}

export function ReviewQueue() {
  const [items, setItems] = useState<QueueEvidence[] | null>(null);
  // The plans of the evidence, each read once while the view is open (../review.ts).
  const book = useRef<PlanBook | null>(null);
  book.current ??= new PlanBook((planId) => desk.plan(planId), (accountId) => desk.accountName(accountId));
  const [purposes, setPurposes] = useState<Map<string, EvidencePurpose>>(new Map());
  const gone = useRef(false);
  useEffect(() => () => { gone.current = true; }, []);
  const [error, setError] = useState<unknown>(null);
  const [selected, setSelected] = useState(0);
  const [pending, setPending] = useState<{ id: string; decision: Decision } | null>(null);
  const [comment, setComment] = useState("");
  const [notice, setNotice] = useState("");
  const [formError, setFormError] = useState("");
  const listRef = useRef<HTMLOListElement>(null);
  const commentRef = useRef<HTMLTextAreaElement>(null);

  const load = () => desk.queue().then((answer) => {
    if (gone.current) return;
    setItems(answer);
    void book.current?.purposes(answer).then((found) => { if (!gone.current) setPurposes(found); });
    setSelected((s) => Math.min(s, Math.max(answer.length - 1, 0)));
    setError(null);
  }).catch(setError);

  useEffect(() => { void load(); }, []);
  useLiveReload(["evidence.uploaded", "evidence.reviewed", "evidence.withdrawn"], () => void load());
  useEffect(() => { if (pending) commentRef.current?.focus(); }, [pending]);

  const focusItem = (index: number) => {
    setSelected(index);
    const node = listRef.current?.querySelectorAll<HTMLElement>("[data-evidence]")[index];
    node?.focus();
  };

  const send = async (item: QueueEvidence, decision: Decision, text: string) => {
    if (decision !== "approved" && !text.trim()) {
      setFormError(t("desk.review.comment_required"));
      commentRef.current?.focus();
      return;
    }
    try {
      await desk.review(item.id, decision, text.trim());
      setNotice(t(`desk.review.done_${decision}` as "desk.review.done_approved", { file: item.filename }));
      setPending(null);
      setComment("");
      setFormError("");
      setItems((list) => list?.filter((e) => e.id !== item.id) ?? null);
      void load();
    } catch (e) {
      setFormError(e instanceof ApiProblem ? (e.problem.detail || e.problem.title) : String(e));
    }
  };

  const onKey = (event: KeyboardEvent, index: number, item: QueueEvidence) => {
    if (event.target instanceof HTMLTextAreaElement || event.target instanceof HTMLInputElement) return;
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const key = event.key.toLowerCase();
    if (key === "arrowdown" || key === "j") { event.preventDefault(); focusItem(Math.min(index + 1, (items?.length ?? 1) - 1)); }
    else if (key === "arrowup" || key === "k") { event.preventDefault(); focusItem(Math.max(index - 1, 0)); }
    else if (key === "a") { event.preventDefault(); void send(item, "approved", ""); }
    else if (key === "r") { event.preventDefault(); setPending({ id: item.id, decision: "rejected" }); }
    else if (key === "m") { event.preventDefault(); setPending({ id: item.id, decision: "needs_more" }); }
  };

  const me = session.value?.account.id;
  return (
    <section aria-labelledby="review-title">
      <h2 id="review-title">{t("desk.review.title")}</h2>
      <p class="desk-hint keys-hint">{t("desk.review.keys")}</p>
      <p class="sr-only" role="status">{notice}</p>
      {notice && <p class="desk-notice" aria-hidden="true">{notice}</p>}
      {error ? <Problem error={error} retry={() => void load()} /> : null}
      {!items ? <Loading /> : items.length === 0 ? <p>{t("desk.review.empty")}</p> : (
        <ol class="review-list" ref={listRef} aria-label={counted("desk.review.list", items.length)}>
          {items.map((item, index) => {
            const open = pending?.id === item.id;
            const purpose = purposes.get(item.id);
            const action = purpose?.action ?? null;
            const verification = action ? pick(action, "verification").trim() : "";
            const place = item.gps ? t("visit.gps_point", { lat: formatNumber(item.gps.lat, 4, true), lon: formatNumber(item.gps.lon, 4, true) })
              : t("desk.review.no_place");
            return (
              <li key={item.id}>
                <article class={index === selected ? "review-item selected" : "review-item"}
                  data-evidence={item.id} tabIndex={0}
                  aria-label={`${item.facility.name ?? item.facility.id}, ${item.filename}`}
                  onFocus={() => setSelected(index)}
                  onKeyDown={(e) => onKey(e as unknown as KeyboardEvent, index, item)}>
                  <div class="thumb">
                    {item.thumbnail_url
                      ? <img src={item.thumbnail_url} alt={t("desk.review.thumb_alt", { file: item.filename })} width={120} height={120} loading="lazy" />
                      : <span class="thumb-none">{item.content_type === "application/pdf" ? "PDF" : t("desk.review.no_thumb")}</span>}
                  </div>
                  <div class="review-facts">
                    <h3>{item.facility.name ?? item.facility.id}</h3>
                    {action && <p class="review-action"><span class="label">{t("desk.review.action")}</span> {pick(action, "text")}
                      {action.critical && <span class="badge critical">{t("desk.critical")}</span>}</p>}
                    <p class="file">{item.filename}{item.note ? ` · ${t("desk.quoted", { text: item.note })}` : ""}</p>
                    <dl>
                      {verification && <><dt>{t("desk.review.verification")}</dt><dd>{verification}</dd></>}
                      <dt>{t("desk.review.sent_by")}</dt>
                      <dd>{purposes.has(item.id) ? uploaderText(purpose, item.uploaded_by, me) : "…"}</dd>
                      <dt>{t("desk.review.captured")}</dt><dd>{item.captured_at ? formatDateTime(item.captured_at) : t("desk.review.unknown")}</dd>
                      <dt>{t("desk.review.place")}</dt><dd>{place}</dd>
                      <dt>{t("desk.review.distance")}</dt>
                      <dd class={item.distance_from_facility_m != null && item.distance_from_facility_m > 1000 ? "far" : ""}>
                        {distanceText(item.distance_from_facility_m)}</dd>
                      <dt>{t("desk.review.uploaded")}</dt><dd>{formatDateTime(item.uploaded_at)}</dd>
                    </dl>
                  </div>
                  <div class="review-actions">
                    <button type="button" class="approve" onClick={() => void send(item, "approved", "")}>
                      {t("desk.review.approve")} <kbd aria-hidden="true">A</kbd></button>
                    <button type="button" class="reject" aria-expanded={open && pending?.decision === "rejected"}
                      onClick={() => { setPending({ id: item.id, decision: "rejected" }); setFormError(""); }}>
                      {t("desk.review.reject")} <kbd aria-hidden="true">R</kbd></button>
                    <button type="button" aria-expanded={open && pending?.decision === "needs_more"}
                      onClick={() => { setPending({ id: item.id, decision: "needs_more" }); setFormError(""); }}>
                      {t("desk.review.more")} <kbd aria-hidden="true">M</kbd></button>
                  </div>
                  {open && pending && (
                    <form class="review-comment" onSubmit={(e) => { e.preventDefault(); void send(item, pending.decision, comment); }}>
                      <label for={`comment-${item.id}`}>{t("desk.review.comment_label")}</label>
                      <textarea id={`comment-${item.id}`} ref={commentRef} required value={comment}
                        aria-invalid={formError ? true : undefined}
                        aria-describedby={formError ? `comment-error-${item.id}` : undefined}
                        onInput={(e) => setComment(e.currentTarget.value)}
                        onKeyDown={(e) => {
                          if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); void send(item, pending.decision, comment); }
                          if (e.key === "Escape") { setPending(null); focusItem(index); }
                        }} />
                      {formError && <p id={`comment-error-${item.id}`} class="field-error" role="alert">{formError}</p>}
                      <div class="row">
                        <button type="submit" class={pending.decision === "rejected" ? "reject" : ""}>
                          {pending.decision === "rejected" ? t("desk.review.send_reject") : t("desk.review.send_more")}</button>
                        <button type="button" onClick={() => { setPending(null); focusItem(index); }}>{t("desk.cancel")}</button>
                      </div>
                    </form>
                  )}
                </article>
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}
