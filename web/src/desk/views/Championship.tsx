/** The championship: the leaderboard of a cohort's teams over a period, with
 * each team's improvement. The print stylesheet (desk.css, @media print) keeps
 * the table and its heading only, so "Imprimer" gives a sheet to pin up. */
import { useEffect, useState } from "preact/hooks";
import { change, num, pct } from "../format";
import { t, formatDate } from "../../i18n";
import { desk, type LeaderboardAnswer } from "../api";
import { Problem, Loading } from "../widgets";
import { ColourChip, defaultPeriod } from "./GapsMap";
import { useLiveReload } from "../live";

export function Championship() {
  const [period, setPeriod] = useState(() => defaultPeriod(90));
  const [cohort, setCohort] = useState("");
  const [board, setBoard] = useState<LeaderboardAnswer | null>(null);
  const [error, setError] = useState<unknown>(null);

  const [page, setPage] = useState(1);
  const load = () => desk.leaderboard({ ...period, cohort: cohort || undefined, page, per_page: 100 })
    .then((answer) => { setBoard(answer); setError(null); }).catch(setError);
  useEffect(() => { setPage(1); }, [period.since, period.until, cohort]);
  useEffect(() => { void load(); }, [period.since, period.until, cohort, page]);
  useLiveReload(["checklist.submitted", "action.status_changed"], () => void load(), 1_000);

  return (
    <section class="championship" aria-labelledby="champ-title">
      <h2 id="champ-title">{t("desk.champ.title")}</h2>
      <form class="desk-filters no-print" onSubmit={(e) => e.preventDefault()}>
        <label>{t("desk.champ.cohort")}
          <input type="text" value={cohort} placeholder={t("desk.champ.all_cohorts")}
            onChange={(e) => setCohort(e.currentTarget.value.trim())} /></label>
        <label>{t("desk.filter.since")}
          <input type="date" value={period.since} onChange={(e) => setPeriod({ ...period, since: e.currentTarget.value })} /></label>
        <label>{t("desk.filter.until")}
          <input type="date" value={period.until} onChange={(e) => setPeriod({ ...period, until: e.currentTarget.value })} /></label>
        <button type="button" onClick={() => window.print()}>{t("desk.print")}</button>
      </form>
      {error ? <Problem error={error} retry={() => void load()} /> : null}
      {!board ? <Loading /> : (
        <>
          <p class="print-heading">{t("desk.champ.period", { cohort: board.cohort ?? t("desk.champ.all_cohorts"),
            since: formatDate(board.since), until: formatDate(board.until) })}</p>
          <p class="desk-hint">{t("desk.champ.formula")}</p>
          <table class="desk-table leaderboard">
            <caption class="sr-only">{t("desk.champ.title")}</caption>
            <thead><tr>
              <th scope="col" class="num">{t("desk.col.rank")}</th>
              <th scope="col">{t("desk.col.team")}</th>
              <th scope="col">{t("desk.col.district")}</th>
              <th scope="col" class="num">{t("desk.col.first")}</th>
              <th scope="col" class="num">{t("desk.col.latest")}</th>
              <th scope="col" class="num">{t("desk.col.improvement")}</th>
              <th scope="col" class="num">{t("desk.col.actions_done")}</th>
              <th scope="col" class="num">{t("desk.col.points")}</th>
            </tr></thead>
            <tbody>
              {board.items.map((team) => (
                <tr key={team.facility_id}>
                  <td class="num rank">{team.rank}</td>
                  <th scope="row"><a href={`/desk/facility/${encodeURIComponent(team.facility_id)}`}>{team.facility_name}</a></th>
                  <td>{team.district_name}</td>
                  <td class="num">{pct(team.first_percent)}</td>
                  <td class="num">{pct(team.latest_percent)} <ColourChip colour={team.colour} flagged={team.flagged ?? false} /></td>
                  <td class={`num ${(team.improvement ?? 0) > 0 ? "up" : (team.improvement ?? 0) < 0 ? "down" : ""}`}>
                    {change(team.improvement ?? 0)}</td>
                  <td class="num">{team.actions_done}/{team.actions_total} ({pct(team.percent_done)})</td>
                  <td class="num points">{num(team.points)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {board.items.length === 0 && <p>{t("desk.champ.empty")}</p>}
          {board.total > board.items.length && (
            <nav class="desk-pager no-print" aria-label={t("desk.pager")}>
              <button type="button" disabled={page === 1} onClick={() => setPage(page - 1)}>{t("desk.previous")}</button>
              <span>{t("desk.page_of", { page, pages: Math.ceil(board.total / board.per_page) })}</span>
              <button type="button" disabled={page * board.per_page >= board.total} onClick={() => setPage(page + 1)}>{t("desk.next")}</button>
            </nav>
          )}
          {board.unranked.length > 0 && (
            <p class="desk-hint">{t("desk.champ.unranked", { n: board.unranked.length,
              names: board.unranked.slice(0, 10).map((u) => u.facility_name).join(", ") })}</p>
          )}
        </>
      )}
    </section>
  );
}
