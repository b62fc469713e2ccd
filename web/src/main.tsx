/** Start-up: the session from the phone, the sync, the service worker, the app. */
import { render } from "preact";
import "./styles.css";
import { App } from "./app";
import { loadSession, session } from "./stores/session";
import { startSync } from "./stores/sync";
import { lang, setLang } from "./i18n";
import { registerServiceWorker } from "./sw-register";

setLang(lang.value);
render(<App />, document.getElementById("app")!);
void loadSession().then(() => {
  if (session.value) void startSync();
});
registerServiceWorker();
