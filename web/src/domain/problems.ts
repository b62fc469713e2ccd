/** A refusal from the server (problem+json), told in the user's language.
 *
 * The server's `title` and `detail` are English only; `detail_fr` and each
 * error's `reason_fr` / `reason_en` carry the two languages (an error's bare
 * `reason` may be English then French, for a 403, 413 or 415). So the title comes
 * from our own catalogue, by status, and the text from the fields of the user's
 * language; `pick()` cannot do it (there is no `detail_en`: it would fall back to
 * the French). */
import type { Problem } from "../api/types";
import type { OpKind } from "../stores/db";
import { t, lang, type Key } from "../i18n";

const TITLES: Record<number, Key> = {
  400: "problem.invalid", 422: "problem.invalid", 403: "problem.forbidden", 404: "problem.not_found",
  409: "problem.conflict", 413: "problem.too_large", 415: "problem.unsupported",
};

/** What the refusal is, by its status (and, for a file, its kind), from the app's catalogue. */
export function problemTitle(problem: Pick<Problem, "status">, kind?: OpKind): string {
  if (kind === "evidence" && (problem.status === 400 || problem.status === 422)) return t("problem.file_refused");
  return t(TITLES[problem.status] ?? "problem.other");
}

/** The server's `detail`, in the user's language. */
export function problemDetail(problem: Problem): string {
  return lang.value === "fr" ? (problem.detail_fr || problem.detail) : problem.detail;
}

/** Why, in the user's language: one line per refused field when the server named
 * them (the detail only repeats them), otherwise the detail. The field's name
 * is kept only when there are several, to tell them apart. */
export function problemLines(problem: Problem): string[] {
  const errors = problem.errors ?? [];
  if (!errors.length) return problemDetail(problem) ? [problemDetail(problem)] : [];
  return errors.length === 1 ? [fieldReason(errors[0])]
    : errors.map((e) => `${e.field}${t("common.colon")}${fieldReason(e)}`);
}

/** One refused field's reason in the user's language (a refusal kept from an older
 * server has only `reason`). */
export function fieldReason(error: NonNullable<Problem["errors"]>[number]): string {
  return (lang.value === "fr" ? error.reason_fr : error.reason_en) || error.reason;
}

/** Why, on one line (the sync bar): the reasons, or the title when there are none. */
export function problemReason(problem: Problem, kind?: OpKind): string {
  const lines = problemLines(problem);
  return lines.length ? lines.join(t("common.semicolon")) : problemTitle(problem, kind);
}
