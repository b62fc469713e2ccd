/** Follow-up actions sorted by due date, overdue ones first and in red; still
 * completable after their date (CHT users asked for that). */
import { myActions, type ActionRow } from "../../domain/plans";
import { t, pick, formatDate } from "../../i18n";

export { myActions, type ActionRow };

export function statusLabel(status: string): string {
  switch (status) {
    case "todo": return t("action.todo");
    case "in_progress": return t("action.in_progress");
    case "awaiting_review": return t("action.awaiting_review");
    case "done": return t("action.done");
    case "dropped": return t("action.dropped");
    default: return status;
  }
}

export function ActionList({ actions }: { actions: ActionRow[] }) {
  if (!actions.length) return <p class="muted">{t("actions.none")}</p>;
  const today = new Date().toISOString().slice(0, 10);
  return (
    <ul class="list">
      {actions.map(({ plan, action }) => {
        const late = action.overdue || action.due_date < today;
        return (
          <li>
            <a class={`card link-card ${late ? "overdue" : ""}`} href={`/plans/${plan.id}#action-${action.id}`}>
              <span class="title">{pick(action, "text")}</span>
              <span class="meta">
                {plan.facility_name} · {statusLabel(action.status)} ·{" "}
                {late ? <strong class="late">{t("action.overdue_since", { date: formatDate(action.due_date) })}</strong>
                  : t("action.due", { date: formatDate(action.due_date) })}
                {action.critical && <span class="tag critical">{t("item.critical")}</span>}
              </span>
            </a>
          </li>
        );
      })}
    </ul>
  );
}
