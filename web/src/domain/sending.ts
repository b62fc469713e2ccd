/** Where the user's changes stand on their way to the server, in the words shown
 * to them (the outbox's items: stores/outbox.ts).
 *
 * A change the server refused (4xx: `needs_fix`) is not "waiting": no network will
 * ever send it, the user must correct or remove it. So a refusal outranks anything
 * waiting, and nothing reads "all sent" while one is kept. */
import type { OpKind, OutboxItem } from "../stores/db";
import { t, tn, type Key } from "../i18n";

export type SendState = "refused" | "waiting" | "sent";

/** How a record's changes stand: refused if any was refused, waiting if any waits. */
export function sendState(items: Pick<OutboxItem, "state">[]): SendState {
  if (items.some((i) => i.state === "needs_fix")) return "refused";
  return items.length ? "waiting" : "sent";
}

/** The first refused change among `items` (the oldest: the outbox keeps their order). */
export function refusalOf<T extends Pick<OutboxItem, "state">>(items: T[]): T | undefined {
  return items.find((i) => i.state === "needs_fix");
}

/** The sync bar's line on what is left to send. */
export function syncHeadline(waiting: number, refused: number): string {
  if (waiting > 0) return t("sync.waiting", { n: waiting });
  return refused > 0 ? t("sync.nothing_else_waiting") : t("sync.nothing_waiting");
}

/** The sync bar's alert: how many changes were refused. */
export function refusedBadge(refused: number): string {
  return tn("sync.refused_badge", refused);
}

/** What kind of change an outbox item is, in the user's words. */
export const KIND_LABEL: Record<OpKind, Key> = {
  "submission": "kind.submission", "plan.agree": "kind.plan_agree", "plan.grow": "kind.plan_grow",
  "action.status": "kind.action_status", "evidence": "kind.evidence", "evidence.review": "kind.evidence_review",
  "inbox.read": "kind.inbox_read",
};
