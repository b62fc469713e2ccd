/** The desk view (issue 14): coaches, champions and managers at a desk or on a
 * tablet. Mounted by the app's router at /desk/*; the role decides which views
 * are offered (a manager reads, a coach or champion also reviews evidence).
 *
 * This module and everything under src/desk/ is loaded on demand (a separate
 * chunk with Leaflet and uPlot), so the field app's first load does not pay for it. */
import { useLocation } from "preact-iso";
import { useEffect, useRef } from "preact/hooks";
import { t, lang, setLang, type Key } from "../i18n";
import { role, session, signOut } from "../stores/session";
import { GapsMap } from "./views/GapsMap";
import { Progress } from "./views/Progress";
import { ReviewQueue } from "./views/ReviewQueue";
import { FacilityPage } from "./views/FacilityPage";
import { Championship } from "./views/Championship";
import { Exports } from "./views/Exports";
import { Rollups } from "./views/Rollups";
import { placeOf, viewsFor, hasFieldApp } from "./nav";
import "./desk.css";

export default function DeskApp() {
  const { path, route } = useLocation();
  const who = role.value ?? "";
  const allowed = viewsFor(who);
  const place = placeOf(path, who);
  const view = place.kind === "facility" ? "facility" : place.kind === "no_desk" ? "" : place.view.href;

  // On a narrow screen the tabs scroll sideways: keep the current one in sight,
  // on arrival, on a change of view or language, and whenever the bar's size
  // changes (its stylesheet applied after the first paint, a rotation).
  const nav = useRef<HTMLElement>(null);
  useEffect(() => {
    const list = nav.current?.querySelector("ul");
    if (!list) return;
    const show = () => {
      const tab = list.querySelector<HTMLElement>("[aria-current='page']");
      if (!tab) return;
      const bar = list.getBoundingClientRect();
      const box = tab.getBoundingClientRect();
      // A pixel of slack: the tabs snap to their start (scroll-snap-align), which
      // may leave one a fraction of a pixel past the edge.
      if (box.left < bar.left - 1 || box.right > bar.right + 1) {
        list.scrollLeft += box.left - bar.left - 24;
      }
    };
    // Now, at the next frame (the tabs laid out) and once the late stylesheet
    // has made the bar a scrolling row; then on every change of its size or content.
    show();
    const frame = requestAnimationFrame(show);
    const later = window.setTimeout(show, 400);
    const watch = typeof ResizeObserver === "function" ? new ResizeObserver(show) : null;
    watch?.observe(list);
    const changes = new MutationObserver(show);
    changes.observe(list, { childList: true, subtree: true, attributes: true,
                            attributeFilter: ["aria-current"] });
    return () => { cancelAnimationFrame(frame); clearTimeout(later); watch?.disconnect();
                   changes.disconnect(); };
  }, [view, who, lang.value]);

  useEffect(() => {
    const label = place.kind === "view" || place.kind === "not_for_role" ? place.view.label : null;
    document.title = `${label ? t(label) : t("desk.facility.title")} · C2P`;
  }, [view, lang.value]);

  if (place.kind === "no_desk") {
    return <main id="main" class="desk"><p>{t("desk.not_for_role")}</p><a href="/">{t("desk.back_home")}</a></main>;
  }

  let body;
  if (place.kind === "facility") body = <FacilityPage id={place.id} />;
  else if (place.kind === "not_for_role") body = <NotForRole label={place.view.label} reason={place.view.notForRole} />;
  else if (view === "/desk/progress") body = <Progress />;
  else if (view === "/desk/review") body = <ReviewQueue />;
  else if (view === "/desk/championship") body = <Championship />;
  else if (view === "/desk/rollups") body = <Rollups />;
  else if (view === "/desk/exports") body = <Exports />;
  else body = <GapsMap />;

  // The app's own skip link (app.tsx) leads to this view's <main id="main">: the
  // desk adds none of its own.
  return (
    <div class="desk">
      <header class="desk-header">
        <h1>C2P <span>· {t("desk.title")}</span></h1>
        <p class="who">{session.value?.account.display_name} · {t(`desk.role.${who}` as Key)}</p>
        <div class="desk-header-actions">
          <button type="button" lang={lang.value === "fr" ? "en" : "fr"} onClick={() => setLang(lang.value === "fr" ? "en" : "fr")}>
            {lang.value === "fr" ? "English" : "Français"}</button>
          {hasFieldApp(who) && <a href="/">{t("desk.field_app")}</a>}
          <button type="button" onClick={() => void signOut().then(() => route("/"))}>{t("desk.sign_out")}</button>
        </div>
      </header>
      <nav ref={nav} class="desk-nav" aria-label={t("desk.nav.label")}>
        <ul>
          {allowed.map((v) => {
            const active = (place.kind === "view" && v.href === view) || (view === "facility" && v.href === "/desk");
            return <li key={v.href}><a href={v.href} aria-current={active ? "page" : undefined}>{t(v.label)}</a></li>;
          })}
        </ul>
      </nav>
      <main id="main" class="desk-main">{body}</main>
    </div>
  );
}

/** A view that exists but is not for the reader's role: say whose it is, and
 * offer the map, rather than showing another view under its address. */
function NotForRole({ label, reason }: { label: Key; reason?: Key }) {
  return (
    <section class="desk-not-for-role" aria-labelledby="not-for-role-title">
      <h2 id="not-for-role-title">{t(label)}</h2>
      <p>{t(reason ?? "desk.view_not_for_role")}</p>
      <p><a href="/desk">{t("desk.back_to_map")}</a></p>
    </section>
  );
}
