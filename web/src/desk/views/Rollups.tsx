/** For managers: district and region roll-ups of the facilities' latest scores
 * (mean, how many of each colour, flagged visits) and the items failed most. */
import { useEffect, useState } from "preact/hooks";
import { pct, counted } from "../format";
import { t, lang } from "../../i18n";
import { desk } from "../api";
import type { GapReport, Rollup } from "../types";
import { COLOURS, colourOf, type Colour } from "../colours";
import { Problem, Loading } from "../widgets";
import { defaultPeriod } from "./GapsMap";

export function Rollups() {
  const [level, setLevel] = useState<"region" | "district">("region");
  const [period, setPeriod] = useState(() => defaultPeriod(365));
  const [report, setReport] = useState<GapReport<Rollup> | null>(null);
  const [error, setError] = useState<unknown>(null);

  const load = () => desk.rollup(level, period).then((r) => { setReport(r); setError(null); }).catch(setError);
  useEffect(() => { setReport(null); void load(); }, [level, period.since, period.until]);

  return (
    <section aria-labelledby="rollups-title">
      <h2 id="rollups-title">{t("desk.rollups.title")}</h2>
      <form class="desk-filters" onSubmit={(e) => e.preventDefault()}>
        <div class="desk-toggle" role="group" aria-label={t("desk.rollups.level")}>
          <button type="button" aria-pressed={level === "region"} onClick={() => setLevel("region")}>{t("desk.rollups.by_region")}</button>
          <button type="button" aria-pressed={level === "district"} onClick={() => setLevel("district")}>{t("desk.rollups.by_district")}</button>
        </div>
        <label>{t("desk.filter.since")}
          <input type="date" value={period.since} onChange={(e) => setPeriod({ ...period, since: e.currentTarget.value })} /></label>
        <label>{t("desk.filter.until")}
          <input type="date" value={period.until} onChange={(e) => setPeriod({ ...period, until: e.currentTarget.value })} /></label>
      </form>
      {error ? <Problem error={error} retry={() => void load()} /> : null}
      {!report ? <Loading /> : (
        <div class="rollups-body">
          <table class="desk-table">
            <caption class="sr-only">{t("desk.rollups.title")}</caption>
            <thead><tr>
              <th scope="col">{level === "region" ? t("desk.col.region") : t("desk.col.district")}</th>
              {level === "district" && <th scope="col">{t("desk.col.region")}</th>}
              <th scope="col" class="num">{t("desk.col.facilities")}</th>
              <th scope="col" class="num">{t("desk.col.visits")}</th>
              <th scope="col" class="num">{t("desk.col.mean")}</th>
              <th scope="col">{t("desk.col.spread")}</th>
              <th scope="col" class="num">{t("desk.col.flagged")}</th>
            </tr></thead>
            <tbody>
              {report.items.map((row) => {
                const mean = colourOf(row.mean_percent, { green: 80, amber: 50 });
                return (
                  <tr key={row.district_id ?? row.region_id}>
                    {/* A district row links to its map; rows of the other level (the answer of a
                        level switch still on screen) have no district and get no link. */}
                    <th scope="row">{level === "region" || !row.district_id ? row.region_name
                      : <a href={`/desk?area=${encodeURIComponent(row.district_id)}`}>{row.district_name}</a>}</th>
                    {level === "district" && <td>{row.region_name}</td>}
                    <td class="num">{row.facilities}</td>
                    <td class="num">{row.visits}</td>
                    <td class="num"><span class="dot" style={{ background: COLOURS[mean].fill }} aria-hidden="true" /> {pct(row.mean_percent)}</td>
                    <td><SpreadBar colours={row.colours} /></td>
                    <td class="num">{row.flagged}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <aside class="desk-top-gaps" aria-labelledby="rollup-gaps">
            <h3 id="rollup-gaps">{t("desk.gaps.top")}</h3>
            <ol>{report.top_gaps.map((g) => (
              <li key={g.item_code}>{lang.value === "en" ? g.label_en : g.label_fr}
                {g.critical && <span class="badge critical">{t("desk.critical")}</span>}
                <span class="gap-count">{t("desk.gaps.failures", { times: counted("desk.count.times", g.failures), visits: counted("desk.count.visits_with_item", g.visits), rate: pct(g.failure_rate) })}</span></li>
            ))}</ol>
          </aside>
        </div>
      )}
    </section>
  );
}

function SpreadBar({ colours }: { colours: Rollup["colours"] }) {
  const total = Object.values(colours).reduce((a, b) => a + b, 0) || 1;
  const order: Colour[] = ["green", "amber", "red", "grey"];
  const text = order.map((c) => `${t(`desk.colour.${c}` as "desk.colour.green")} ${colours[c]}`).join(", ");
  return (
    <span class="spread" role="img" aria-label={text} title={text}>
      {order.map((c) => colours[c] > 0 && (
        <span key={c} style={{ width: `${(100 * colours[c]) / total}%`, background: COLOURS[c].fill }} />
      ))}
    </span>
  );
}
