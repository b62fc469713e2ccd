/** The desk's views, who may open each, and what a path shows a given role.
 * Plain logic (DeskApp.tsx renders it), so it is tested without the views. */
import type { Key } from "../i18n";
import { homeOf } from "../routes";
import type { Role } from "../api/types";

export interface DeskView { href: string; label: Key; roles: string[]; notForRole?: Key }

export const DESK_ROLES = ["coach", "champion", "manager", "admin"];

export const DESK_VIEWS: DeskView[] = [
  { href: "/desk", label: "desk.nav.map", roles: DESK_ROLES },
  { href: "/desk/progress", label: "desk.nav.progress", roles: DESK_ROLES },
  { href: "/desk/review", label: "desk.nav.review", roles: ["coach", "champion", "admin"],
    notForRole: "desk.review.not_for_role" },
  { href: "/desk/championship", label: "desk.nav.championship", roles: DESK_ROLES },
  { href: "/desk/rollups", label: "desk.nav.rollups", roles: ["champion", "manager", "admin"],
    notForRole: "desk.rollups.not_for_role" },
  { href: "/desk/exports", label: "desk.nav.exports", roles: DESK_ROLES },
];

/** What a path of the desk shows a role:
 * - `view`: one of DESK_VIEWS (an unknown path below /desk shows the map);
 * - `facility`: a facility's page (`id`);
 * - `not_for_role`: a view that exists but is not the role's (a manager opening
 *   /desk/review is told who reviews, not silently shown the map);
 * - `no_desk`: a role with no desk at all. */
export type DeskPlace =
  | { kind: "view"; view: DeskView }
  | { kind: "facility"; id: string }
  | { kind: "not_for_role"; view: DeskView }
  | { kind: "no_desk" };

export function placeOf(path: string, role: string): DeskPlace {
  if (!DESK_ROLES.includes(role)) return { kind: "no_desk" };
  if (path.startsWith("/desk/facility/")) {
    return { kind: "facility", id: decodeURIComponent(path.slice("/desk/facility/".length)) };
  }
  const href = path.replace(/\/$/, "") || "/desk";
  const view = DESK_VIEWS.find((v) => v.href === href) ?? DESK_VIEWS[0];
  if (!view.roles.includes(role)) return { kind: "not_for_role", view };
  return { kind: "view", view };
}

/** The views offered to a role, in the tab bar's order. */
export function viewsFor(role: string): DeskView[] {
  return DESK_VIEWS.filter((v) => v.roles.includes(role));
}

/** Whether the role has the field app to go back to (its home is the field, as a
 * coach's or an admin's): the desk then links to it. */
export function hasFieldApp(role: string): boolean {
  return DESK_ROLES.includes(role) && homeOf(role as Role) === "field";
}
