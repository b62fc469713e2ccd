/** Gaps by location: the map of Mali (or its table), filters by period, template
 * and district, and the items failed most often in the area. A facility opens
 * its page.
 *
 * Measured for the bench (web/bench/desk.mjs): `desk:gaps-data` is marked when
 * the answer has arrived and been parsed, `desk:gaps-drawn` once the map and the
 * table are on screen (after the frame that paints them). */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { pct, counted } from "../format";
import { t, pick, formatDate, lang } from "../../i18n";
import { desk, type GapFilters } from "../api";
import type { FacilityScore, GapReport, MapLayer } from "../types";
import { createMaliMap, type MaliMap } from "../map/maliMap";
import { COLOURS, type Colour, type Thresholds } from "../colours";
import { Problem, Loading } from "../widgets";
import { useLiveReload } from "../live";
import { gapOrder } from "../gaps";

const PAGE = 50;

export function defaultPeriod(days = 365): { since: string; until: string } {
  const until = new Date();
  const since = new Date(until.getTime() - days * 86400_000);
  return { since: since.toISOString().slice(0, 10), until: until.toISOString().slice(0, 10) };
}

function colourWord(colour: string | null): string {
  return t(`desk.colour.${(colour ?? "grey") as Colour}`);
}

export function GapsMap() {
  const { route, query } = useLocation();
  const [filters, setFilters] = useState<GapFilters>(() => ({
    ...defaultPeriod(), template_code: query.template || "", area_id: query.area || "" }));
  const [mode, setMode] = useState<"map" | "table">(query.view === "table" ? "table" : "map");
  const [report, setReport] = useState<MapLayer | null>(null);
  const [summary, setSummary] = useState<GapReport<FacilityScore> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [templates, setTemplates] = useState<{ code: string; title: string }[]>([]);
  const [districts, setDistricts] = useState<{ id: string; name: string }[]>([]);
  const [thresholds, setThresholds] = useState<Thresholds>({ green: 80, amber: 50 });
  const [page, setPage] = useState(0);
  const mapElement = useRef<HTMLDivElement>(null);
  const map = useRef<MaliMap | null>(null);
  const [drawn, setDrawn] = useState<number | null>(null);

  // Every read of this view is cancelled when it goes away (or is superseded):
  // nothing arrives for a map that is no longer there.
  useEffect(() => {
    const controller = new AbortController();
    const signal = controller.signal;
    desk.templates(signal).then((answer) => {
      const latest = new Map<string, string>();
      for (const item of answer.items) {
        if (!latest.has(item.code)) latest.set(item.code, pick(item as Record<string, unknown>, "title") || item.code);
      }
      setTemplates([...latest].map(([code, title]) => ({ code, title })));
    }).catch(() => { if (!signal.aborted) setTemplates([]); });
    desk.orgUnits("district", signal).then((items) =>
      setDistricts(items.map((u) => ({ id: u.id, name: u.name }))
        .sort((a, b) => a.name.localeCompare(b.name, "fr")))).catch(() => { if (!signal.aborted) setDistricts([]); });
    return () => controller.abort();
  }, []);

  useEffect(() => {
    const controller = new AbortController();
    desk.template(filters.template_code || "pev-integrated", controller.signal)
      .then((tpl) => { if (!controller.signal.aborted && tpl.thresholds) setThresholds(tpl.thresholds); })
      .catch(() => undefined);
    return () => controller.abort();
  }, [filters.template_code]);

  // One load at a time: a new one (filters changed, a live event, a retry)
  // cancels the one in flight, and leaving the view cancels the last.
  const loading = useRef<AbortController | null>(null);
  const load = () => {
    loading.current?.abort();
    const controller = new AbortController();
    loading.current = controller;
    const signal = controller.signal;
    setError(null);
    // The points and the summary come in parallel; the map draws when its points arrive.
    desk.gaps(filters, signal).then((answer) => { if (!signal.aborted) setSummary(answer); }).catch((e) => { if (!signal.aborted) setError(e); });
    return desk.mapLayer(filters, signal).then((answer) => {
      if (signal.aborted) return;
      performance.mark("desk:gaps-data");
      setReport(answer);
      setPage(0);
    }).catch((e) => { if (!signal.aborted) setError(e); });
  };

  useEffect(() => {
    void load();
    return () => loading.current?.abort(); // the filters changed, or the view is left
  }, [filters.since, filters.until, filters.template_code, filters.area_id]);

  // A new visit anywhere in the area changes a facility's latest score.
  useLiveReload(["checklist.submitted"], () => void load(), 1_000);

  useEffect(() => {
    if (!mapElement.current || map.current) return;
    map.current = createMaliMap(mapElement.current, {
      label: (row) => t("desk.gaps.marker", { name: row.facility_name, score: pct(row.percent), level: colourWord(row.colour) })
        + (row.flagged ? ` · ${t("desk.critical")}` : ""),
      onOpen: (id) => route(`/desk/facility/${encodeURIComponent(id)}`),
    });
    return () => { map.current?.destroy(); map.current = null; };
  }, []);

  // The dots are drawn when the map is shown (a table user does not pay for them);
  // `placed` remembers which answer the map holds.
  const placed = useRef<MapLayer | null>(null);
  useEffect(() => {
    if (!report) return;
    if (mode === "map" && map.current) {
      map.current.leaflet.invalidateSize();
      if (placed.current !== report) {
        performance.mark("desk:markers-start");
        setDrawn(map.current.setFacilities(report.items));
        performance.mark("desk:markers-end");
        placed.current = report;
      }
      const district = districts.find((d) => d.id === filters.area_id);
      map.current.highlightDistrict(district?.name ?? null);
      map.current.fit(report.items);
    }
    // The canvas paints in the next frame, the table in this commit: mark after both.
    requestAnimationFrame(() => setTimeout(() => performance.mark("desk:gaps-drawn"), 0));
  }, [report, mode, districts]);

  const rows = useMemo(() => gapOrder(report?.items ?? []), [report]);
  const shown = rows.slice(page * PAGE, page * PAGE + PAGE);
  const unplaced = report ? report.items.length - (drawn ?? 0) : 0;

  const set = (patch: Partial<GapFilters>) => setFilters((f) => ({ ...f, ...patch }));

  return (
    <section class="desk-gaps" aria-labelledby="gaps-title">
      <h2 id="gaps-title">{t("desk.gaps.title")}</h2>
      <form class="desk-filters" onSubmit={(e) => e.preventDefault()}>
        <label>{t("desk.filter.since")}
          <input type="date" value={filters.since} max={filters.until}
            onChange={(e) => set({ since: e.currentTarget.value })} /></label>
        <label>{t("desk.filter.until")}
          <input type="date" value={filters.until} min={filters.since}
            onChange={(e) => set({ until: e.currentTarget.value })} /></label>
        <label>{t("desk.filter.template")}
          <select value={filters.template_code} onChange={(e) => set({ template_code: e.currentTarget.value })}>
            <option value="">{t("desk.filter.all_templates")}</option>
            {templates.map((tpl) => <option value={tpl.code}>{tpl.title}</option>)}
          </select></label>
        <label>{t("desk.filter.district")}
          <select value={filters.area_id} onChange={(e) => set({ area_id: e.currentTarget.value })}>
            <option value="">{t("desk.filter.all_districts")}</option>
            {districts.map((d) => <option value={d.id}>{d.name}</option>)}
          </select></label>
        <div class="desk-toggle" role="group" aria-label={t("desk.gaps.display")}>
          <button type="button" aria-pressed={mode === "map"} onClick={() => setMode("map")}>{t("desk.gaps.map")}</button>
          <button type="button" aria-pressed={mode === "table"} onClick={() => setMode("table")}>{t("desk.gaps.table")}</button>
        </div>
      </form>

      {error ? <Problem error={error} retry={() => void load()} /> : null}
      {summary && report && (
        <p class="desk-summary" aria-live="polite">
          {t("desk.gaps.summary", { facilities: counted("desk.count.centres_visited", summary.totals.facilities),
            visits: counted("desk.count.visits", summary.totals.visits),
            mean: pct(summary.totals.mean_percent), flagged: summary.totals.flagged })}
          {unplaced > 0 && mode === "map" ? ` ${t("desk.gaps.unplaced", { n: unplaced })}` : ""}
        </p>
      )}

      <div class="desk-gaps-body">
        <div class="desk-map-wrap" hidden={mode !== "map"}>
          <div ref={mapElement} class="desk-map" role="region" aria-label={t("desk.gaps.map_label")} />
          <Legend thresholds={thresholds} />
        </div>
        {mode === "table" && (
          <div class="desk-table-wrap">
            {!report ? <Loading /> : (
              <>
                <table class="desk-table">
                  <caption class="desk-caption">{t("desk.gaps.table_caption")}</caption>
                  <thead><tr>
                    <th scope="col">{t("desk.col.facility")}</th>
                    <th scope="col">{t("desk.col.district")}</th>
                    <th scope="col">{t("desk.col.latest_visit")}</th>
                    <th scope="col" class="num">{t("desk.col.score")}</th>
                    <th scope="col">{t("desk.col.status")}</th>
                    <th scope="col" class="num">{t("desk.col.visits")}</th>
                  </tr></thead>
                  <tbody>
                    {shown.map((row) => (
                      <tr key={row.facility_id}>
                        <th scope="row"><a href={`/desk/facility/${encodeURIComponent(row.facility_id)}`}>{row.facility_name}</a></th>
                        <td>{row.district_name}</td>
                        <td>{formatDate(row.latest_visited_at)}</td>
                        <td class="num">{pct(row.percent)}</td>
                        <td><ColourChip colour={row.colour} flagged={row.flagged} /></td>
                        <td class="num">{row.visits}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                {rows.length > PAGE && (
                  <nav class="desk-pager" aria-label={t("desk.pager")}>
                    <button type="button" disabled={page === 0} onClick={() => setPage(page - 1)}>{t("desk.previous")}</button>
                    <span>{t("desk.page_of", { page: page + 1, pages: Math.ceil(rows.length / PAGE) })}</span>
                    <button type="button" disabled={(page + 1) * PAGE >= rows.length} onClick={() => setPage(page + 1)}>{t("desk.next")}</button>
                  </nav>
                )}
              </>
            )}
          </div>
        )}
        <aside class="desk-top-gaps" aria-labelledby="top-gaps-title">
          <h3 id="top-gaps-title">{t("desk.gaps.top")}</h3>
          {summary && summary.top_gaps.length === 0 && <p>{t("desk.gaps.none")}</p>}
          <ol>
            {summary?.top_gaps.map((gap) => (
              <li key={gap.item_code}>
                <span class="gap-label">{lang.value === "en" ? gap.label_en : gap.label_fr}</span>
                {gap.critical && <span class="badge critical">{t("desk.critical")}</span>}
                <span class="gap-count">{t("desk.gaps.failures", { times: counted("desk.count.times", gap.failures),
                  visits: counted("desk.count.visits_with_item", gap.visits), rate: pct(gap.failure_rate) })}</span>
              </li>
            ))}
          </ol>
        </aside>
      </div>
    </section>
  );
}

export function ColourChip({ colour, flagged }: { colour: string | null; flagged?: boolean }) {
  const c = (colour ?? "grey") as Colour;
  return (
    <span class="chip-group">
      <span class={`chip chip-${c}`}><span class="dot" style={{ background: COLOURS[c]?.fill }} aria-hidden="true" />{colourWord(c)}</span>
      {flagged && <span class="badge critical">{t("desk.critical")}</span>}
    </span>
  );
}

function Legend({ thresholds }: { thresholds: Thresholds }) {
  const items: [Colour, string][] = [
    ["green", t("desk.legend.green", { n: thresholds.green })],
    ["amber", t("desk.legend.amber", { low: thresholds.amber, high: thresholds.green })],
    ["red", t("desk.legend.red", { n: thresholds.amber })],
    ["grey", t("desk.legend.grey")],
  ];
  return (
    <div class="desk-legend" aria-label={t("desk.legend.title")} role="group">
      <strong>{t("desk.legend.title")}</strong>
      <ul>
        {items.map(([c, label]) => (
          <li key={c}><span class="dot" style={{ background: COLOURS[c].fill }} aria-hidden="true" />{label}</li>
        ))}
        <li><span class="dot ring" aria-hidden="true" />{t("desk.legend.critical")}</li>
        <li><span class="line-district" aria-hidden="true" />{t("desk.legend.districts")}</li>
      </ul>
    </div>
  );
}
