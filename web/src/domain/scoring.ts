/** A visit's score, by the same rules as the server (services/checklist/checklist/domain.py).
 *
 * - an item earns all its points (yes, or a number in its pass range), half
 *   (partial), the choice's ratio, or none (no); not-applicable and unanswered
 *   items leave the denominator;
 * - section and overall scores are percentages of the points that applied,
 *   rounded as Python's `round(x, 1)` does (ties to even);
 * - one failing critical item flags the visit whatever its percentage;
 * - the colour comes from the template's thresholds.
 * tests/unit/scoring.test.ts feeds this the answers the Python scorer was fed
 * (tests/unit/fixtures/scores.json, written by scripts/score_fixture.py). */
import type { Item } from "../api/types";

/** What scoring needs of a template: the API's TemplateView, or a template file. */
export interface Template {
  thresholds?: { green: number; amber: number } | null;
  sections: { code: string; items: Item[] }[];
}

export type AnswerValue = string | number | null;
export interface Answer { value: AnswerValue; comment?: string }
export type Answers = Record<string, Answer | undefined>;

export interface SectionScore {
  code: string; points: number; max_points: number; percent: number | null; colour: Colour;
  effective: boolean; answered: number; total: number; critical_failed: string[];
}
export interface VisitScore {
  percent: number | null; points: number; max_points: number; colour: Colour; flagged: boolean;
  sections: SectionScore[]; answered: number; total: number;
}
export type Colour = "green" | "amber" | "red" | "grey";

const EFFECTIVE_SECTION = 80;

/** Python's round(x, digits): correctly rounded from the exact binary value, ties to even. */
export function pyRound(x: number, digits: number): number {
  if (!Number.isFinite(x)) return x;
  const exact = Math.abs(x).toFixed(100); // the exact decimal expansion of the double
  const [, fraction = ""] = exact.split(".");
  const rest = fraction.slice(digits);
  const tie = rest[0] === "5" && /^0*$/.test(rest.slice(1));
  if (!tie) return Number(x.toFixed(digits));
  const scale = 10 ** digits;
  const lower = Math.floor(Math.abs(x) * scale); // exact: the tie means |x|·scale = n + 0.5
  const even = lower % 2 === 0 ? lower : lower + 1;
  return (Math.sign(x) * even) / scale;
}

function ratioOf(item: Item, value: AnswerValue): number {
  if (item.type === "yes_no") {
    return value === "yes" ? 1 : value === "partial" ? 0.5 : 0;
  }
  if (item.type === "numeric") {
    const [low, high] = item.pass_range ?? [null, null];
    const v = Number(value);
    return (low === null || low === undefined || v >= low) && (high === null || high === undefined || v <= high) ? 1 : 0;
  }
  const choice = (item.choices ?? []).find((c) => c.value === value);
  return choice ? Number(choice.ratio ?? 0) : 0;
}

/** What one answer is worth: [earned, possible]; possible is 0 when not applicable. */
export function outcome(item: Item, value: AnswerValue | undefined): [number, number] {
  if (value === null || value === undefined || value === "na" || value === "") return [0, 0];
  const points = Number(item.points);
  return [points * ratioOf(item, value), points];
}

export function colour(template: Template, percent: number | null): Colour {
  if (percent === null) return "grey";
  const thresholds = template.thresholds ?? { green: 80, amber: 50 };
  if (percent >= thresholds.green) return "green";
  if (percent >= thresholds.amber) return "amber";
  return "red";
}

const percentOf = (earned: number, possible: number) =>
  possible ? pyRound((100 * earned) / possible, 1) : null;

export function isAnswered(answer: Answer | undefined): boolean {
  return answer !== undefined && answer.value !== null && answer.value !== undefined && answer.value !== "";
}

/** An answer the server would take: given, and not refused (a number out of its
 * range, N/A where not allowed). Only these count as answered and enter the live
 * score; the others are shown as errors until corrected (the server refuses the
 * whole visit over one, so scoring it would show a score that never comes). */
export function isValidAnswer(item: Item, answer: Answer | undefined): answer is Answer {
  return isAnswered(answer) && answerProblem(item, answer!.value) === null;
}

export function score(template: Template, answers: Answers): VisitScore {
  let totalEarned = 0;
  let totalPossible = 0;
  let flagged = false;
  let answeredAll = 0;
  let totalAll = 0;
  const sections = template.sections.map((section) => {
    let earned = 0;
    let possible = 0;
    let answered = 0;
    const criticalFailed: string[] = [];
    for (const item of section.items) {
      const answer = answers[item.code];
      const valid = isValidAnswer(item, answer);
      if (valid) answered += 1;
      const [e, p] = valid ? outcome(item, answer.value) : [0, 0];
      earned += e;
      possible += p;
      if (p > 0 && e < p && item.critical) {
        flagged = true;
        criticalFailed.push(item.code);
      }
    }
    const percent = percentOf(earned, possible);
    totalEarned += earned;
    totalPossible += possible;
    answeredAll += answered;
    totalAll += section.items.length;
    return {
      code: section.code, points: earned, max_points: possible, percent,
      colour: colour(template, percent), effective: percent !== null && percent >= EFFECTIVE_SECTION,
      answered, total: section.items.length, critical_failed: criticalFailed,
    };
  });
  const percent = percentOf(totalEarned, totalPossible);
  return {
    percent, points: totalEarned, max_points: totalPossible, colour: colour(template, percent),
    flagged, sections, answered: answeredAll, total: totalAll,
  };
}

/** The problem with one answer, as the server words it (domain._answer_problem), or null. */
export function answerProblem(item: Item, value: AnswerValue): string | null {
  if (value === "na") return item.allow_na === false ? "na_not_allowed" : null;
  if (item.type === "numeric") {
    if (typeof value !== "number" || !Number.isFinite(value)) return "not_a_number";
    const [low, high] = item.valid_range ?? [null, null];
    if ((low !== null && low !== undefined && value < low) || (high !== null && high !== undefined && value > high)) {
      return "out_of_range";
    }
  }
  return null;
}
