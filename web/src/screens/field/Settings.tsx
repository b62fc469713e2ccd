/** Language, the account, and signing out (which wipes the phone's copy). */
import { useLocation } from "preact-iso";
import { Shell } from "../../components/Shell";
import { session, signOut } from "../../stores/session";
import { stopSync } from "../../stores/sync";
import { waitingCount, needsFixCount } from "../../stores/outbox";
import { t, tn, lang, setLang, type Lang, type Key } from "../../i18n";

export default function Settings() {
  const { route } = useLocation();
  const me = session.value?.account;
  async function leave() {
    // Refused changes are not on the server either: signing out deletes them too.
    const waiting = waitingCount.value + needsFixCount.value;
    if (waiting > 0 && !confirm(tn("settings.sign_out_waiting", waiting))) return;
    stopSync();
    await signOut();
    route("/sign-in", true);
  }
  return (
    <Shell title={t("settings.title")}>
      <label for="language">{t("settings.language")}</label>
      <select id="language" value={lang.value} onChange={(e) => setLang((e.target as HTMLSelectElement).value as Lang)}>
        <option value="fr" lang="fr">Français</option>
        <option value="en" lang="en">English</option>
      </select>
      {me && (
        <ul class="list compact">
          <li><span>{t("settings.name")}</span><span>{me.display_name}</span></li>
          <li><span>{t("settings.username")}</span><span>{me.username}</span></li>
          <li><span>{t("settings.role")}</span><span>{t(`role.${me.role}` as Key)}</span></li>
        </ul>
      )}
      <div class="stack">
        <button type="button" class="secondary" onClick={leave}>{t("settings.sign_out")}</button>
        <p class="muted">{t("settings.sign_out_note")}</p>
      </div>
    </Shell>
  );
}
