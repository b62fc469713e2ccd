/** The visits on this phone: drafts, waiting to be sent, refused (to fix), sent. */
import { Shell } from "../../components/Shell";
import { db, type Draft } from "../../stores/db";
import { useLocal } from "../../hooks";
import { t, formatDateTime, formatPercent } from "../../i18n";

export function DraftState({ draft }: { draft: Draft }) {
  switch (draft.state) {
    case "draft": return <span class="tag">{t("visit.state.draft")}</span>;
    case "queued": return <span class="tag unsynced">{t("visit.state.queued")}</span>;
    case "needs_fix": return <span class="tag critical">{t("visit.state.needs_fix")}</span>;
    default: return <span class="tag ok">{t("visit.state.sent")}</span>;
  }
}

export default function Visits() {
  const drafts = useLocal(async () => (await db()).getAll("drafts"));
  const sorted = (drafts ?? []).sort((a, b) => b.updated_at.localeCompare(a.updated_at));
  return (
    <Shell title={t("visits.title")}>
      <a class="button primary" href="/facilities">{t("home.new_visit")}</a>
      {drafts && !sorted.length && <p class="muted">{t("visits.none")}</p>}
      <ul class="list">
        {sorted.map((d) => (
          <li>
            <a class="card link-card" href={d.state === "sent" && d.plan_id ? `/plans/${d.plan_id}` : `/visits/${d.id}`}>
              <span class="title">{d.facility_name}</span>
              <span class="meta">
                {formatDateTime(d.started_at)} · <DraftState draft={d} />
                {typeof d.score_percent === "number" && ` · ${formatPercent(d.score_percent)}`}
              </span>
            </a>
          </li>
        ))}
      </ul>
    </Shell>
  );
}
