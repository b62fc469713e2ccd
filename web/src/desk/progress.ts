/** Traffic lights of a coachee's or facility's action follow-up. Plain logic.
 *
 * Red: an action is overdue, or less than half of what is owed is done.
 * Amber: nothing overdue, but less than the goal (80 % done, the same bar as an
 * effective checklist section). Green: the goal is met. Nothing owed reads grey. */
import { t } from "../i18n";
import type { ProgressRow } from "./types";

/** The planner names the group of actions that have no owner "unassigned" (its
 * key, and its label by coachee): said in the reader's language here. */
export const UNASSIGNED = "unassigned";

export function rowLabel(row: Pick<ProgressRow, "key" | "label">): string {
  if (row.key === UNASSIGNED && (row.label == null || row.label === UNASSIGNED)) return t("desk.progress.unassigned");
  return row.label ?? row.key;
}

export const GOAL_PERCENT = 80;

export type Light = "green" | "amber" | "red" | "grey";

export function light(row: Pick<ProgressRow, "done" | "open" | "overdue" | "percent_done">): Light {
  if (row.done + row.open === 0) return "grey";
  if (row.overdue > 0 || row.percent_done < 50) return "red";
  if (row.percent_done < GOAL_PERCENT) return "amber";
  return "green";
}

/** Worst first: red, then amber, then green, grey last; most overdue first within. */
export function byUrgency(rows: ProgressRow[]): ProgressRow[] {
  const order: Record<Light, number> = { red: 0, amber: 1, green: 2, grey: 3 };
  return [...rows].sort((a, b) => order[light(a)] - order[light(b)] || b.overdue - a.overdue
    || a.percent_done - b.percent_done || a.label.localeCompare(b.label, "fr"));
}
