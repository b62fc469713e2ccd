/** Exports: the visits and the gaps of a period (and district, template) as CSV
 * files that open in a spreadsheet. A visit's PDF report is on its facility page. */
import { useEffect, useState } from "preact/hooks";
import { t } from "../../i18n";
import { desk } from "../api";
import { downloadExport, type ExportFilters } from "../download";
import { defaultPeriod } from "./GapsMap";
import { Problem } from "../widgets";

export function Exports() {
  const [filters, setFilters] = useState<ExportFilters>(() => defaultPeriod(90));
  const [districts, setDistricts] = useState<{ id: string; name: string }[]>([]);
  const [templates, setTemplates] = useState<string[]>([]);
  const [busy, setBusy] = useState<"" | "visits" | "gaps">("");
  const [done, setDone] = useState("");
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    desk.orgUnits("district").then((items) => setDistricts(items.map((u) => ({ id: u.id, name: u.name }))
      .sort((x, y) => x.name.localeCompare(y.name, "fr")))).catch(() => undefined);
    desk.templates().then((a) => setTemplates([...new Set(a.items.map((i) => i.code))])).catch(() => undefined);
  }, []);

  const run = async (kind: "visits" | "gaps") => {
    setBusy(kind); setError(null); setDone("");
    try {
      await downloadExport(kind, filters);
      setDone(t(kind === "visits" ? "desk.exports.visits_done" : "desk.exports.gaps_done"));
    } catch (e) { setError(e); } finally { setBusy(""); }
  };
  const set = (patch: Partial<ExportFilters>) => setFilters((f) => ({ ...f, ...patch }));

  return (
    <section aria-labelledby="exports-title">
      <h2 id="exports-title">{t("desk.exports.title")}</h2>
      <p class="desk-hint">{t("desk.exports.hint")}</p>
      <form class="desk-filters" onSubmit={(e) => e.preventDefault()}>
        <label>{t("desk.filter.since")}
          <input type="date" value={filters.since} onChange={(e) => set({ since: e.currentTarget.value })} /></label>
        <label>{t("desk.filter.until")}
          <input type="date" value={filters.until} onChange={(e) => set({ until: e.currentTarget.value })} /></label>
        <label>{t("desk.filter.district")}
          <select value={filters.district_id ?? ""} onChange={(e) => set({ district_id: e.currentTarget.value || undefined })}>
            <option value="">{t("desk.filter.all_districts")}</option>
            {districts.map((d) => <option value={d.id}>{d.name}</option>)}
          </select></label>
        <label>{t("desk.filter.template")}
          <select value={filters.template ?? ""} onChange={(e) => set({ template: e.currentTarget.value || undefined })}>
            <option value="">{t("desk.filter.all_templates")}</option>
            {templates.map((code) => <option value={code}>{code}</option>)}
          </select></label>
      </form>
      <div class="export-buttons">
        <button type="button" disabled={busy !== ""} onClick={() => void run("visits")}>
          {busy === "visits" ? t("desk.exports.busy") : t("desk.exports.visits")}</button>
        <button type="button" disabled={busy !== ""} onClick={() => void run("gaps")}>
          {busy === "gaps" ? t("desk.exports.busy") : t("desk.exports.gaps")}</button>
      </div>
      <p role="status">{done}</p>
      {error ? <Problem error={error} /> : null}
    </section>
  );
}
