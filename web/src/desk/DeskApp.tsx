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
import "./desk.css";

interface View { href: string; label: Key; roles: string[] }

const ALL = ["coach", "champion", "manager", "admin"];
export const DESK_VIEWS: View[] = [
  { href: "/desk", label: "desk.nav.map", roles: ALL },
  { href: "/desk/progress", label: "desk.nav.progress", roles: ALL },
  { href: "/desk/review", label: "desk.nav.review", roles: ["coach", "champion", "admin"] },
  { href: "/desk/championship", label: "desk.nav.championship", roles: ALL },
  { href: "/desk/rollups", label: "desk.nav.rollups", roles: ["champion", "manager", "admin"] },
  { href: "/desk/exports", label: "desk.nav.exports", roles: ALL },
];

function current(path: string) {
  if (path.startsWith("/desk/facility/")) {
    return { view: "facility", id: decodeURIComponent(path.slice("/desk/facility/".length)) };
  }
  const view = path.replace(/\/$/, "");
  return { view: view === "" ? "/desk" : view, id: "" };
}

export default function DeskApp() {
  const { path, route } = useLocation();
  const who = role.value ?? "";
  const allowed = DESK_VIEWS.filter((v) => v.roles.includes(who));
  const { view, id } = current(path);

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
    const label = allowed.find((v) => v.href === view)?.label;
    document.title = `${label ? t(label) : t("desk.facility.title")} · C2P`;
  }, [view, lang.value]);

  if (!ALL.includes(who)) {
    return <main id="main" class="desk"><p>{t("desk.not_for_role")}</p><a href="/">{t("desk.back_home")}</a></main>;
  }

  let body;
  if (view === "facility") body = <FacilityPage id={id} />;
  else if (view === "/desk/progress") body = <Progress />;
  else if (view === "/desk/review" && allowed.some((v) => v.href === view)) body = <ReviewQueue />;
  else if (view === "/desk/championship") body = <Championship />;
  else if (view === "/desk/rollups" && allowed.some((v) => v.href === view)) body = <Rollups />;
  else if (view === "/desk/exports") body = <Exports />;
  else body = <GapsMap />;

  return (
    <div class="desk">
      <a class="skip-link" href="#main">{t("desk.skip")}</a>
      <header class="desk-header">
        <h1>C2P <span>· {t("desk.title")}</span></h1>
        <p class="who">{session.value?.account.display_name} · {t(`desk.role.${who}` as Key)}</p>
        <div class="desk-header-actions">
          <button type="button" lang={lang.value === "fr" ? "en" : "fr"} onClick={() => setLang(lang.value === "fr" ? "en" : "fr")}>
            {lang.value === "fr" ? "English" : "Français"}</button>
          {who === "coach" && <a href="/">{t("desk.field_app")}</a>}
          <button type="button" onClick={() => void signOut().then(() => route("/"))}>{t("desk.sign_out")}</button>
        </div>
      </header>
      <nav ref={nav} class="desk-nav" aria-label={t("desk.nav.label")}>
        <ul>
          {allowed.map((v) => {
            const active = v.href === view || (view === "facility" && v.href === "/desk");
            return <li key={v.href}><a href={v.href} aria-current={active ? "page" : undefined}>{t(v.label)}</a></li>;
          })}
        </ul>
      </nav>
      <main id="main" class="desk-main">{body}</main>
    </div>
  );
}
