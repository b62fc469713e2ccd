/** The improvement plans the user follows, with a marker on those with changes
 * not yet sent, and, while the server writes the plan of a visit sent from this
 * phone, a line for it and a marker on the earlier plans of its facility (the
 * visit may close their actions: they are not shown as current meanwhile). */
import { Shell } from "../../components/Shell";
import { db } from "../../stores/db";
import { list } from "../../stores/outbox";
import { useLocal } from "../../hooks";
import { awaitsVisitPlan } from "../../domain/plans";
import { sendState } from "../../domain/sending";
import { t, formatDate } from "../../i18n";

export function planStatus(status: string): string {
  switch (status) {
    case "draft": return t("plan.status.draft");
    case "agreed": return t("plan.status.agreed");
    case "in_progress": return t("plan.status.in_progress");
    case "completed": return t("plan.status.completed");
    default: return status;
  }
}

/** Visits sent from this phone whose plan has not arrived yet (see stores/sync.ts). */
export async function awaitedVisits() {
  const sent = await (await db()).getAllFromIndex("drafts", "state", "sent");
  return sent.filter((d) => !d.plan_id)
    .map(({ id, facility_id, facility_name, started_at }) => ({ id, facility_id, facility_name, started_at }));
}

export default function Plans() {
  const plans = useLocal(async () => (await db()).getAll("plans"));
  const pending = useLocal(list);
  const changesOf = (planId: string) => (pending ?? []).filter((i) => (i.plan_id ?? i.ref) === planId);
  const awaited = useLocal(awaitedVisits) ?? [];
  const sorted = (plans ?? []).sort((a, b) => (b.visited_at ?? b.created_at).localeCompare(a.visited_at ?? a.created_at));
  return (
    <Shell title={t("plans.title")}>
      {plans && !sorted.length && !awaited.length && <p class="muted">{t("plans.none")}</p>}
      <ul class="list">
        {awaited.map((v) => (
          <li key={v.id}>
            <a class="card link-card" href={`/visits/${v.id}`}>
              <span class="title">{v.facility_name}</span>
              <span class="meta">{formatDate(v.started_at)} · {t("plans.preparing")}</span>
            </a>
          </li>
        ))}
        {sorted.map((p) => {
          const done = p.actions.filter((a) => a.status === "done").length;
          const overdue = p.actions.filter((a) => a.overdue).length;
          const sending = sendState(changesOf(p.id));
          return (
            <li>
              <a class={`card link-card ${overdue ? "overdue" : ""}`} href={`/plans/${p.id}`}>
                <span class="title">{p.facility_name}</span>
                <span class="meta">
                  {formatDate(p.visited_at ?? p.created_at)} · {planStatus(p.status)} ·{" "}
                  {t("plans.progress", { done, total: p.actions.length })}
                  {overdue > 0 && <strong class="late"> · {t("plans.overdue", { n: overdue })}</strong>}
                  {sending === "refused" && <span class="tag critical">{t("common.refused")}</span>}
                  {sending === "waiting" && <span class="tag unsynced">{t("common.unsynced")}</span>}
                  {awaitsVisitPlan(p, awaited) && <span class="tag unsynced">{t("plans.updating")}</span>}
                </span>
              </a>
            </li>
          );
        })}
      </ul>
    </Shell>
  );
}
