/** Pick the facility of a new visit: search by name (accents optional), nearest
 * first once the phone knows where it is. Works offline from the synced list. */
import { useMemo, useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { Shell } from "../../components/Shell";
import { db } from "../../stores/db";
import { createDraft } from "../../stores/drafts";
import { currentPosition, distanceM, fold } from "../../domain/geo";
import { useLocal } from "../../hooks";
import { t, pick, formatDistance } from "../../i18n";
import type { Template } from "../../api/types";

const PREFERRED_TEMPLATE = "pev-integrated";

export default function Facilities() {
  const { route } = useLocation();
  const [query, setQuery] = useState("");
  const [here, setHere] = useState<{ lat: number; lon: number } | null>(null);
  const [locating, setLocating] = useState(false);
  const [templateCode, setTemplateCode] = useState<string | null>(null);
  const facilities = useLocal(async () => (await db()).getAllFromIndex("org_units", "level", "facility"));
  const units = useLocal(async () => (await db()).getAll("org_units"));
  const templates = useLocal(async () => (await db()).getAll("templates"));
  const chosen: Template | undefined = (templates ?? []).find((tp) => tp.code === templateCode)
    ?? (templates ?? []).find((tp) => tp.code === PREFERRED_TEMPLATE) ?? templates?.[0];

  const names = useMemo(() => new Map((units ?? []).map((u) => [u.id, u.name])), [units]);
  const shown = useMemo(() => {
    const q = fold(query.trim());
    const rows = (facilities ?? [])
      .filter((f) => !q || fold(f.name).includes(q) || fold(names.get(f.parent_id ?? "") ?? "").includes(q))
      .map((f) => ({
        unit: f,
        distance: here && f.latitude !== null && f.longitude !== null
          ? distanceM(here, { lat: f.latitude, lon: f.longitude }) : null,
      }));
    return rows.sort((a, b) => (a.distance ?? Infinity) - (b.distance ?? Infinity)
      || a.unit.name.localeCompare(b.unit.name, "fr"));
  }, [facilities, query, here, names]);

  async function locate() {
    setLocating(true);
    setHere(await currentPosition());
    setLocating(false);
  }

  async function start(unit: { id: string; name: string }) {
    if (!chosen) return;
    const draft = await createDraft(chosen, unit);
    route(`/visits/${draft.id}`);
  }

  return (
    <Shell title={t("facilities.title")} back="/">
      {!templates?.length && <p class="notice">{t("facilities.no_template")}</p>}
      {(templates?.length ?? 0) > 1 && (
        <>
          <label for="template">{t("facilities.template")}</label>
          <select id="template" value={chosen?.code} onChange={(e) => setTemplateCode((e.target as HTMLSelectElement).value)}>
            {templates!.map((tp) => <option value={tp.code}>{pick(tp, "title")} (v{tp.version})</option>)}
          </select>
        </>
      )}
      <label for="facility-search">{t("facilities.search")}</label>
      <input id="facility-search" type="search" value={query}
        onInput={(e) => setQuery((e.target as HTMLInputElement).value)} />
      <button type="button" class="secondary" onClick={locate} disabled={locating}>
        {locating ? t("facilities.locating") : here ? t("facilities.nearest_on") : t("facilities.nearest")}
      </button>
      <ul class="list" aria-label={t("facilities.list")}>
        {shown.map(({ unit, distance }) => (
          <li>
            <button type="button" class="card link-card" onClick={() => start(unit)}>
              <span class="title">{unit.name}</span>
              <span class="meta">
                {names.get(unit.parent_id ?? "") ?? ""}
                {distance !== null && ` · ${formatDistance(distance)}`}
              </span>
            </button>
          </li>
        ))}
      </ul>
      {facilities && !shown.length && <p class="muted">{t("facilities.none")}</p>}
    </Shell>
  );
}
