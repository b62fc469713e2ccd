/** Coachees' progress, live: per coachee and per facility, the actions done,
 * open and overdue with a traffic light. Any change of an action or a plan
 * anywhere in the caller's scope reloads the figures over SSE, no page reload. */
import { useEffect, useState } from "preact/hooks";
import { daysToClose, pct } from "../format";
import { t, formatDateTime } from "../../i18n";
import { desk } from "../api";
import type { ProgressRow } from "../types";
import { byUrgency, light, rowLabel, GOAL_PERCENT, UNASSIGNED } from "../progress";
import { Problem, Loading, TrafficLight } from "../widgets";
import { useLiveReload } from "../live";

const LIVE = ["action.status_changed", "plan.created", "plan.agreed", "plan.completed",
  "action.overdue", "evidence.reviewed"];

export function Progress() {
  const [by, setBy] = useState<"coachee" | "facility">("coachee");
  const [rows, setRows] = useState<ProgressRow[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [updatedAt, setUpdatedAt] = useState<string | null>(null);

  const load = () => desk.progress(by).then((items) => {
    setRows(byUrgency(items.map((row) => ({ ...row, label: row.label ?? row.key }))));
    setUpdatedAt(new Date().toISOString());
    setError(null);
  }).catch(setError);

  useEffect(() => { setRows(null); void load(); }, [by]);
  useLiveReload(LIVE, () => void load());

  return (
    <section aria-labelledby="progress-title">
      <h2 id="progress-title">{t("desk.progress.title")}</h2>
      <p class="desk-hint">{t("desk.progress.goal", { n: GOAL_PERCENT })}</p>
      <div class="desk-toggle" role="group" aria-label={t("desk.progress.by")}>
        <button type="button" aria-pressed={by === "coachee"} onClick={() => setBy("coachee")}>{t("desk.progress.by_coachee")}</button>
        <button type="button" aria-pressed={by === "facility"} onClick={() => setBy("facility")}>{t("desk.progress.by_facility")}</button>
      </div>
      {updatedAt && (
        <p class="desk-live">
          <span class="live-dot" aria-hidden="true" />
          {t("desk.live.updated", { at: formatDateTime(updatedAt) })}
        </p>
      )}
      {error ? <Problem error={error} retry={() => void load()} /> : null}
      {!rows ? <Loading /> : rows.length === 0 ? <p>{t("desk.progress.empty")}</p> : (
        <table class="desk-table">
          <caption class="sr-only">{t("desk.progress.title")}</caption>
          <thead><tr>
            <th scope="col">{by === "coachee" ? t("desk.col.coachee") : t("desk.col.facility")}</th>
            <th scope="col">{t("desk.col.light")}</th>
            <th scope="col" class="num">{t("desk.col.done")}</th>
            <th scope="col" class="num">{t("desk.col.open")}</th>
            <th scope="col" class="num">{t("desk.col.overdue")}</th>
            <th scope="col" class="num">{t("desk.col.percent_done")}</th>
            <th scope="col" class="num">{t("desk.col.median_days")}</th>
          </tr></thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.key} data-key={row.key}>
                <th scope="row">{by === "facility" && row.key !== UNASSIGNED
                  ? <a href={`/desk/facility/${encodeURIComponent(row.key)}`}>{rowLabel(row)}</a> : rowLabel(row)}</th>
                <td><TrafficLight light={light(row)} /></td>
                <td class="num">{row.done}</td>
                <td class="num">{row.open}</td>
                <td class={row.overdue ? "num overdue" : "num"}>{row.overdue}</td>
                <td class="num">{pct(row.percent_done)}</td>
                <td class="num">{daysToClose(row.median_days_to_close)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
