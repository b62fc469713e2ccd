/** Which screens exist, at which path, for which roles. The role decides what a
 * user sees: a screen not listed for the role is not routed for them.
 *
 * Top-level path segments must be listed in gateway/routes/app.py `SECTIONS` (so a
 * reload of that address answers the app). The desk view's screens all live
 * under `/desk` (src/screens/desk/). */
import { lazy } from "preact-iso";
import type { ComponentType } from "preact";
import type { Role } from "./api/types";

export interface Screen { path: string; roles: Role[] | "all"; component: ComponentType<any> }

const FIELD: Role[] = ["coach", "coachee", "admin"];
const COACHES: Role[] = ["coach", "admin"];

export const screens: Screen[] = [
  { path: "/facilities", roles: COACHES, component: lazy(() => import("./screens/field/Facilities")) },
  { path: "/visits", roles: COACHES, component: lazy(() => import("./screens/field/Visits")) },
  { path: "/visits/:id", roles: COACHES, component: lazy(() => import("./screens/field/Visit")) },
  { path: "/plans", roles: "all", component: lazy(() => import("./screens/field/Plans")) },
  { path: "/plans/:id", roles: "all", component: lazy(() => import("./screens/field/Plan")) },
  { path: "/inbox", roles: "all", component: lazy(() => import("./screens/field/Inbox")) },
  { path: "/sync", roles: "all", component: lazy(() => import("./screens/field/Sync")) },
  { path: "/settings", roles: "all", component: lazy(() => import("./screens/field/Settings")) },
  // The coach's and manager's desk view (issue 14): its own folder and router.
  { path: "/desk", roles: ["coach", "champion", "manager", "admin"], component: lazy(() => import("./screens/desk")) },
  { path: "/desk/*", roles: ["coach", "champion", "manager", "admin"], component: lazy(() => import("./screens/desk")) },
];

/** Where a role lands after sign-in. */
export function homeOf(role: Role): "field" | "desk" {
  return FIELD.includes(role) ? "field" : "desk";
}

export function allowed(screen: Screen, role: Role): boolean {
  return screen.roles === "all" || screen.roles.includes(role);
}
