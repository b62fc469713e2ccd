/** What needs the user: new plans, evidence to review, feedback, actions due or
 * overdue. Live while online (SSE); read offline from the phone's copy. */
import { Shell } from "../../components/Shell";
import { db } from "../../stores/db";
import { queue, touched, unread } from "../../stores/sync";
import { useLocal } from "../../hooks";
import { t, tn, pick, formatDateTime } from "../../i18n";
import type { InboxMessage } from "../../api/types";

/** The app's screen for an API link (`/api/v1/plans/<id>` -> `/plans/<id>`). */
export function screenOf(link: string): string | null {
  const plan = /\/plans\/([^/?#]+)/.exec(link);
  if (plan) return `/plans/${plan[1]}`;
  const submission = /\/submissions\/([^/?#]+)/.exec(link);
  if (submission) return `/visits/${submission[1]}`;
  return null;
}

export default function Inbox() {
  const messages = useLocal(async () => (await db()).getAllFromIndex("inbox", "created_at"));
  const sorted = [...(messages ?? [])].reverse();

  async function open(message: InboxMessage) {
    if (!message.read) {
      const database = await db();
      await database.put("inbox", { ...message, read: true });
      unread.value = Math.max(0, unread.value - 1);
      touched();
      await queue("inbox.read", message.id);
    }
  }

  return (
    <Shell title={t("inbox.title")}>
      <p class="muted">{tn("inbox.unread_count", unread.value)}</p>
      {messages && !sorted.length && <p class="muted">{t("inbox.none")}</p>}
      <ul class="list">
        {sorted.map((m) => {
          const target = screenOf(m.link);
          return (
            <li>
              <a class={`card link-card inbox-item ${m.read ? "" : "unread"}`} href={target ?? "/inbox"}
                onClick={() => void open(m)}>
                <span class="title">{m.read ? "" : <span class="sr-only">{t("inbox.new")} </span>}{pick(m, "title")}</span>
                <span class="meta">{pick(m, "body")}</span>
                <span class="meta">{formatDateTime(m.created_at)}</span>
              </a>
            </li>
          );
        })}
      </ul>
    </Shell>
  );
}
