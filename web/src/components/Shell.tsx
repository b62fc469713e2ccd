/** The frame of every signed-in screen: title bar, sync state, main area, tab bar. */
import type { ComponentChildren } from "preact";
import { useLocation } from "preact-iso";
import { SyncBadge } from "./SyncBadge";
import { role } from "../stores/session";
import { unread } from "../stores/sync";
import { t, tn, formatNumber, type Key } from "../i18n";

interface Tab { href: string; label: Key; roles: string[] }

const TABS: Tab[] = [
  { href: "/", label: "nav.home", roles: ["coach", "coachee", "admin", "champion", "manager"] },
  { href: "/visits", label: "nav.visits", roles: ["coach", "admin"] },
  { href: "/plans", label: "nav.plans", roles: ["coach", "coachee", "admin", "champion", "manager"] },
  { href: "/inbox", label: "nav.inbox", roles: ["coach", "coachee", "admin", "champion", "manager"] },
  { href: "/settings", label: "nav.settings", roles: ["coach", "coachee", "admin", "champion", "manager"] },
];

export function Shell({ title, children, back, sub }: {
  title: string; children: ComponentChildren; back?: string;
  /** shown under the sync state, in the part that stays on screen (a visit's live score) */
  sub?: ComponentChildren;
}) {
  const { path, route } = useLocation();
  const current = role.value ?? "";
  const count = unread.value;
  return (
    <div class="shell">
      <header class="head">
        <div class="topbar">
          {back && (
            <button type="button" class="icon-button" onClick={() => route(back)} aria-label={t("nav.back")}>‹</button>
          )}
          <h1>{title}</h1>
        </div>
        <SyncBadge />
        {sub}
      </header>
      <main id="main" class="content">{children}</main>
      <nav class="tabbar" aria-label={t("nav.main")}>
        {TABS.filter((tab) => tab.roles.includes(current)).map((tab) => (
          <a href={tab.href} class={path === tab.href ? "tab active" : "tab"}
            aria-current={path === tab.href ? "page" : undefined}>
            {t(tab.label)}
            {tab.href === "/inbox" && count > 0 && (
              <>
                <span class="count" aria-hidden="true">{formatNumber(count, 0)}</span>
                <span class="sr-only">{tn("inbox.unread_count", count)}</span>
              </>
            )}
          </a>
        ))}
      </nav>
    </div>
  );
}
