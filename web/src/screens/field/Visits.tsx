/** The visits on this phone: drafts, waiting to be sent, refused (to fix), sent; and
 * below them, while online, the coach's visits the server has that this phone does
 * not (a new phone): read only, marked as from the server. */
import { useEffect, useState } from "preact/hooks";
import { Shell } from "../../components/Shell";
import { db, type Draft } from "../../stores/db";
import { session } from "../../stores/session";
import { online } from "../../stores/sync";
import { serverVisits, notOnPhone, type ServerVisit } from "../../stores/serverVisits";
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
  const coachId = session.value?.account.id;
  const isOnline = online.value;
  // Asked when the tab opens and when the network comes back (not on every local
  // change: one request on 2G is enough); a visit's plan, if on the phone, opens from it.
  const [fromServer, setFromServer] = useState<ServerVisit[] | null | undefined>(undefined);
  useEffect(() => {
    let alive = true;
    if (!coachId || !isOnline) { setFromServer(null); return; }
    void serverVisits(coachId).then((found) => { if (alive) setFromServer(found); });
    return () => { alive = false; };
  }, [coachId, isOnline]);
  const plans = useLocal(async () => (await db()).getAll("plans"));
  const planOf = (visitId: string) => (plans ?? []).find((p) => p.submission_id === visitId)?.id;
  const elsewhere = notOnPhone(fromServer ?? [], new Set((drafts ?? []).map((d) => d.id)));
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
      {fromServer === null && <p class="muted">{t("visits.server_offline")}</p>}
      {elsewhere.length > 0 && (
        <section aria-labelledby="server-visits">
          <h2 id="server-visits">{t("visits.server_title")}</h2>
          <p class="muted">{t("visits.server_note")}</p>
          <ul class="list">
            {elsewhere.map((v) => {
              const planId = planOf(v.id);
              const body = (
                <>
                  <span class="title">{v.facility_name}</span>
                  <span class="meta">
                    {formatDateTime(v.visited_at)} · <span class="tag server">{t("visits.server_tag")}</span>
                    {typeof v.percent === "number" && ` · ${formatPercent(v.percent)}`}
                  </span>
                </>
              );
              return <li>{planId ? <a class="card link-card" href={`/plans/${planId}`}>{body}</a>
                : <div class="card link-card">{body}</div>}</li>;
            })}
          </ul>
        </section>
      )}
    </Shell>
  );
}
