/** A facility's page: the score trend by section (a chart and its table), the
 * visits with their PDF report, the improvement plans with their actions, and
 * the evidence sent for those actions. */
import { useEffect, useMemo, useState } from "preact/hooks";
import { num, pct } from "../format";
import { t, pick, formatDate, formatDateTime, lang } from "../../i18n";
import { api } from "../../api/client";
import type { Plan } from "../../api/types";
import { desk } from "../api";
import type { FacilityHistory, QueueEvidence } from "../types";
import { TrendChart, type TrendSeries } from "../chart/TrendChart";
import { ColourChip } from "./GapsMap";
import { Problem, Loading } from "../widgets";
import { downloadReport } from "../download";
import { useLiveReload } from "../live";

const PLANS_SHOWN = 3;

export function FacilityPage({ id }: { id: string }) {
  const [history, setHistory] = useState<FacilityHistory | null>(null);
  const [plans, setPlans] = useState<Plan[] | null>(null);
  const [evidence, setEvidence] = useState<Record<string, QueueEvidence[]>>({});
  const [error, setError] = useState<unknown>(null);
  const [place, setPlace] = useState("");

  useEffect(() => {
    // The district and region by name (the facility page of the API has them).
    api.GET("/api/v1/facilities/{facility_id}", { params: { path: { facility_id: id } } }).then(({ data }) => {
      const f = data?.facility;
      setPlace([f?.district?.name, f?.region?.name].filter(Boolean).join(" · "));
    }).catch(() => setPlace(""));
  }, [id]);

  const load = async () => {
    try {
      const [h, summaries] = await Promise.all([desk.history(id), desk.plans(id)]);
      setHistory(h);
      const full = await Promise.all(summaries.items.slice(0, PLANS_SHOWN).map(async (p) => {
        const { data } = await api.GET("/api/v1/plans/{plan_id}", { params: { path: { plan_id: p.id } } });
        return data as unknown as Plan;
      }));
      setPlans(full.filter(Boolean));
      const withEvidence = full.flatMap((p) => p?.actions ?? [])
        .filter((a) => a.status === "awaiting_review" || a.status === "done");
      const found: Record<string, QueueEvidence[]> = {};
      await Promise.all(withEvidence.map(async (a) => {
        found[a.id] = (await desk.actionEvidence(a.id)).items;
      }));
      setEvidence(found);
      setError(null);
    } catch (e) { setError(e); }
  };

  useEffect(() => { void load(); }, [id]);
  useLiveReload(["checklist.submitted", "action.status_changed", "evidence.uploaded", "evidence.reviewed"],
    () => void load(), 800);

  const trend = useMemo(() => {
    if (!history || history.visits.length === 0) return null;
    const times = history.visits.map((v) => Date.parse(v.visited_at) / 1000);
    const codes: string[] = [];
    const titles: Record<string, string> = {};
    for (const visit of history.visits) for (const s of visit.sections) {
      if (!codes.includes(s.code)) { codes.push(s.code); titles[s.code] = pick(s, "title") || s.code; }
    }
    const series: TrendSeries[] = [
      { label: t("desk.facility.overall"), values: history.visits.map((v) => v.percent) },
      ...codes.map((code) => ({ label: titles[code], values: history.visits.map((v) =>
        v.sections.find((s) => s.code === code)?.percent ?? null) })),
    ];
    return { times, series, codes, titles };
  }, [history, lang.value]);

  if (error) return <Problem error={error} retry={() => void load()} />;
  if (!history) return <Loading />;
  const latest = history.visits[history.visits.length - 1];

  return (
    <article class="facility-page" aria-labelledby="facility-title">
      <h2 id="facility-title">{history.facility_name}</h2>
      {place && <p class="desk-hint">{place}</p>}
      {latest && (
        <p class="facility-latest">
          {t("desk.facility.latest", { date: formatDate(latest.visited_at), n: num(latest.percent) })}{" "}
          <ColourChip colour={latest.colour} flagged={latest.flagged} />
          {history.change != null && <span class="change"> {t("desk.facility.change", { n: (history.change > 0 ? "+" : "") + num(history.change) })}</span>}
        </p>
      )}

      <section aria-labelledby="trend-title">
        <h3 id="trend-title">{t("desk.facility.trend")}</h3>
        {trend ? (
          <>
            <TrendChart times={trend.times} series={trend.series} timeLabel={t("desk.col.date")}
              locale={lang.value === "en" ? "en-GB" : "fr-FR"}
              title={t("desk.facility.trend_chart", { name: history.facility_name })} />
            <details>
              <summary>{t("desk.facility.trend_table")}</summary>
              <table class="desk-table">
                <thead><tr><th scope="col">{t("desk.col.section")}</th>
                  {history.visits.map((v) => <th scope="col" class="num">{formatDate(v.visited_at)}</th>)}</tr></thead>
                <tbody>{trend.series.map((s) => (
                  <tr><th scope="row">{s.label}</th>{s.values.map((v) => <td class="num">{num(v)}</td>)}</tr>
                ))}</tbody>
              </table>
            </details>
          </>
        ) : <p>{t("desk.facility.no_visit")}</p>}
      </section>

      <section aria-labelledby="visits-title">
        <h3 id="visits-title">{t("desk.facility.visits")}</h3>
        <table class="desk-table">
          <thead><tr>
            <th scope="col">{t("desk.col.date")}</th><th scope="col">{t("desk.col.template")}</th>
            <th scope="col" class="num">{t("desk.col.score")}</th><th scope="col">{t("desk.col.status")}</th>
            <th scope="col">{t("desk.col.report")}</th>
          </tr></thead>
          <tbody>{[...history.visits].reverse().map((v) => (
            <tr key={v.submission_id}>
              <td>{formatDateTime(v.visited_at)}</td>
              <td>{v.template_code} v{v.template_version}</td>
              <td class="num">{pct(v.percent)}</td>
              <td><ColourChip colour={v.colour} flagged={v.flagged} /></td>
              <td><button type="button" class="link" onClick={() => void downloadReport(v.submission_id, history.facility_name, v.visited_at)}>
                {t("desk.facility.report_pdf")}</button></td>
            </tr>
          ))}</tbody>
        </table>
      </section>

      <section aria-labelledby="plans-title">
        <h3 id="plans-title">{t("desk.facility.plans")}</h3>
        {!plans ? <Loading /> : plans.length === 0 ? <p>{t("desk.facility.no_plan")}</p> : plans.map((plan) => (
          <div class="plan-block" key={plan.id}>
            <h4>{t("desk.facility.plan_of", { date: formatDate(plan.visited_at ?? plan.created_at) })}
              {" "}<span class="badge">{t(`desk.plan.${plan.status}` as "desk.plan.draft")}</span></h4>
            <ul class="action-list">
              {plan.actions.map((a) => (
                <li key={a.id} class={a.overdue ? "overdue" : ""}>
                  <span class={`badge status-${a.status}`}>{t(`desk.action.${a.status}` as "desk.action.todo")}</span>
                  {a.critical && <span class="badge critical">{t("desk.critical")}</span>}
                  {" "}{pick(a as unknown as Record<string, unknown>, "text")}
                  <span class="due"> · {t("desk.facility.due", { date: formatDate(a.due_date) })}{a.overdue ? ` · ${t("desk.col.overdue")}` : ""}</span>
                  {(evidence[a.id] ?? []).length > 0 && (
                    <ul class="evidence-list">
                      {evidence[a.id].map((e) => (
                        <li key={e.id}>
                          {e.thumbnail_url && <img src={e.thumbnail_url} alt={t("desk.review.thumb_alt", { file: e.filename })} width={48} height={48} />}
                          {e.filename} · {t(`desk.evidence.${e.status}` as "desk.evidence.accepted")}
                          {e.review?.comment ? ` · ${t("desk.quoted", { text: e.review.comment })}` : ""}
                        </li>
                      ))}
                    </ul>
                  )}
                </li>
              ))}
            </ul>
          </div>
        ))}
      </section>
    </article>
  );
}
