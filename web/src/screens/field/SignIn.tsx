/** Sign in: once, online (usually on Wi-Fi during training); then the app works offline. */
import { useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { signIn, SignInError, session } from "../../stores/session";
import { startSync } from "../../stores/sync";
import { t, lang, setLang } from "../../i18n";

export default function SignIn() {
  const { route } = useLocation();
  const [username, setUsername] = useState(session.value?.account.username ?? "");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(username.trim(), password);
      void startSync();
      route("/", true);
    } catch (e) {
      const reason = e instanceof SignInError ? e.reason : "server";
      setError(reason === "credentials" ? t("signin.wrong") : reason === "throttled" ? t("signin.throttled")
        : reason === "network" ? t("signin.offline") : t("signin.failed"));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" class="signin">
      <h1>{t("app.name")}</h1>
      <p class="muted">{t("signin.intro")}</p>
      <form onSubmit={submit} class="card">
        <label for="username">{t("signin.username")}</label>
        <input id="username" name="username" autoComplete="username" autoCapitalize="none" required
          value={username} onInput={(e) => setUsername((e.target as HTMLInputElement).value)} />
        <label for="password">{t("signin.password")}</label>
        <input id="password" name="password" type="password" autoComplete="current-password" required
          value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        {error && <p class="error" role="alert">{error}</p>}
        <button type="submit" class="primary" disabled={busy}>{busy ? t("signin.busy") : t("signin.submit")}</button>
      </form>
      <p>
        <button type="button" class="link" onClick={() => setLang(lang.value === "fr" ? "en" : "fr")}
          lang={lang.value === "fr" ? "en" : "fr"}>
          {lang.value === "fr" ? "English" : "Français"}
        </button>
      </p>
    </main>
  );
}
