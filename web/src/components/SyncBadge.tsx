/** The sync state, always visible: online or offline, records waiting, last sync,
 * and a link to what needs the user. */
import { useLocation } from "preact-iso";
import { online, syncing, lastSync, lastError, syncNow } from "../stores/sync";
import { waitingCount, needsFixCount, firstRefusal } from "../stores/outbox";
import { needsSignIn } from "../stores/session";
import { syncHeadline, refusedBadge, KIND_LABEL } from "../domain/sending";
import { problemReason } from "../domain/problems";
import { t, formatDateTime } from "../i18n";

export function SyncBadge() {
  const { route } = useLocation();
  const isOnline = online.value;
  const waiting = waitingCount.value;
  const needsFix = needsFixCount.value;
  const refusal = firstRefusal.value;
  return (
    <div class="syncbar" role="status" aria-live="polite">
      <span class={`badge ${isOnline ? "badge-online" : "badge-offline"}`}>
        {isOnline ? t("sync.online") : t("sync.offline")}
      </span>
      <button type="button" class="link syncbar-detail" onClick={() => route("/sync")}>
        <span>{syncHeadline(waiting, needsFix)}</span>
        <span class="muted">
          {syncing.value ? t("sync.in_progress")
            : t("sync.last", { when: lastSync.value ? formatDateTime(lastSync.value) : t("sync.never") })}
        </span>
      </button>
      {needsFix > 0 && (
        // Refused, not waiting: no network will send it. Say what and why, on one line.
        <button type="button" class="badge badge-alert refusal" onClick={() => route("/sync")}>
          <strong>{refusedBadge(needsFix)}</strong>
          {refusal && (
            <span class="refusal-why">
              {t(KIND_LABEL[refusal.kind])}{refusal.problem && <>{t("common.colon")}{problemReason(refusal.problem, refusal.kind)}</>}
            </span>
          )}
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
