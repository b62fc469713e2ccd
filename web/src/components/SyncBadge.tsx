/** The sync state, always visible: online or offline, records waiting, last sync,
 * and a link to what needs the user. */
import { useLocation } from "preact-iso";
import { online, syncing, lastSync, lastError, syncNow } from "../stores/sync";
import { waitingCount, needsFixCount } from "../stores/outbox";
import { needsSignIn } from "../stores/session";
import { t, formatDateTime } from "../i18n";

export function SyncBadge() {
  const { route } = useLocation();
  const isOnline = online.value;
  const waiting = waitingCount.value;
  const needsFix = needsFixCount.value;
  return (
    <div class="syncbar" role="status" aria-live="polite">
      <span class={`badge ${isOnline ? "badge-online" : "badge-offline"}`}>
        {isOnline ? t("sync.online") : t("sync.offline")}
      </span>
      <button type="button" class="link syncbar-detail" onClick={() => route("/sync")}>
        <span>{waiting ? t("sync.waiting", { n: waiting }) : t("sync.nothing_waiting")}</span>
        <span class="muted">
          {syncing.value ? t("sync.in_progress")
            : t("sync.last", { when: lastSync.value ? formatDateTime(lastSync.value) : t("sync.never") })}
        </span>
      </button>
      {needsFix > 0 && (
        <button type="button" class="badge badge-alert" onClick={() => route("/sync")}>
          {t("sync.needs_you", { n: needsFix })}
        </button>
      )}
      {needsSignIn.value && (
        <button type="button" class="badge badge-alert" onClick={() => route("/sign-in")}>
          {t("sync.sign_in_again")}
        </button>
      )}
      {isOnline && !syncing.value && lastError.value === "retry" && (
        <button type="button" class="link" onClick={() => void syncNow()}>{t("sync.retry_now")}</button>
      )}
    </div>
  );
}
