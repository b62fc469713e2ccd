/** The sync in detail: what waits to be sent, what the server refused and why
 * (kept for fixing, never dropped silently), and a button to sync now. */
import { useLocation } from "preact-iso";
import { Shell } from "../../components/Shell";
import { list, discard, retryNow } from "../../stores/outbox";
import { online, syncing, lastSync, lastError, syncNow, touched } from "../../stores/sync";
import { needsSignIn } from "../../stores/session";
import { useLocal } from "../../hooks";
import { ProblemText } from "../../components/ProblemText";
import { KIND_LABEL as KIND } from "../../domain/sending";
import { t, tn, formatDateTime, formatNumber } from "../../i18n";

export default function Sync() {
  const { route } = useLocation();
  const items = useLocal(() => list());
  const refused = (items ?? []).filter((i) => i.state === "needs_fix");
  const waiting = (items ?? []).filter((i) => i.state === "waiting");
  return (
    <Shell title={t("sync.title")} back="/">
      <ul class="list compact">
        <li><span>{t("sync.network")}</span><strong>{online.value ? t("sync.online") : t("sync.offline")}</strong></li>
        <li><span>{t("sync.last_label")}</span><span>{lastSync.value ? formatDateTime(lastSync.value) : t("sync.never")}</span></li>
        <li><span>{t("sync.waiting_label")}</span><strong>{formatNumber(waiting.length, 0)}</strong></li>
      </ul>
      {needsSignIn.value && <p class="notice">{t("sync.session_expired")} <a href="/sign-in">{t("signin.submit")}</a></p>}
      {lastError.value && lastError.value !== "retry" && lastError.value !== "sign_in" && online.value && (
        <p class="notice">{t("sync.error")}</p>
      )}
      <button type="button" class="primary big" disabled={syncing.value} onClick={() => void syncNow()}>
        {syncing.value ? t("sync.in_progress") : t("sync.now")}
      </button>
      {refused.length > 0 && (
        <section aria-labelledby="refused">
          <h2 id="refused">{t("sync.refused_title", { n: refused.length })}</h2>
          {refused.map((item) => (
            <div class="card problem outbox-item">
              <p><strong>{t(KIND[item.kind])}</strong> · {formatDateTime(item.created_at)}</p>
              {/* Title from our catalogue, text in the user's language (the server's title is English). */}
              <ProblemText problem={item.problem} kind={item.kind} />
              <div class="buttons">
                {item.kind === "submission" && (
                  <button type="button" class="primary" onClick={() => route(`/visits/${item.ref}`)}>{t("sync.fix")}</button>
                )}
                {item.kind !== "submission" && item.plan_id && (
                  // Evidence and action changes are fixed on their plan's page.
                  <button type="button" class="primary" onClick={() => route(`/plans/${item.plan_id}`)}>{t("sync.fix")}</button>
                )}
                <button type="button" class="secondary" onClick={() => retryNow(item.id).then(() => { touched(); void syncNow(); })}>
                  {t("sync.retry")}
                </button>
                <button type="button" class="link danger" onClick={async () => {
                  if (confirm(t("sync.discard_confirm"))) { await discard(item.id); touched(); }
                }}>{t("sync.discard")}</button>
              </div>
            </div>
          ))}
        </section>
      )}
      {waiting.length > 0 && (
        <section aria-labelledby="waiting">
          <h2 id="waiting">{t("sync.waiting_title")}</h2>
          <ul class="list">
            {waiting.map((item) => (
              <li class="card outbox-item">
                <span class="tag unsynced">{t("common.unsynced")}</span> <strong>{t(KIND[item.kind])}</strong>
                <div class="meta">{formatDateTime(item.created_at)}
                  {item.attempts > 0 && ` · ${tn("sync.attempts", item.attempts)}`}
                  {item.next_at > Date.now() && ` · ${t("sync.next_try", { when: formatDateTime(item.next_at) })}`}
                </div>
              </li>
            ))}
          </ul>
        </section>
      )}
    </Shell>
  );
}
