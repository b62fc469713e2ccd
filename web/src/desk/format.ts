/** Numbers, percentages and counted nouns for the desk views, in the current
 * language: one place so every view writes "82,1 %" in French and "82.1%" in
 * English (Intl.NumberFormat), and "1 visite" / "2 visites" (Intl.PluralRules
 * picking a `.one` / `.other` catalogue entry) instead of a fixed plural. */
import { lang, t, formatPercent, type Key } from "../i18n";

const LOCALES = { fr: "fr-ML", en: "en-GB" } as const;

/** A percentage given on a 0-100 scale ("—" when there is no score). */
export function pct(value: number | null | undefined): string {
  return formatPercent(value);
}

/** A plain count or measure, grouped and with the language's decimal mark. */
export function num(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined) return "—";
  return new Intl.NumberFormat(LOCALES[lang.value], { maximumFractionDigits: digits }).format(value);
}

/** Nouns (and counted phrases) that have `.one` and `.other` entries in both catalogues. */
export type Counted = "desk.count.centres_visited" | "desk.count.visits" | "desk.count.times"
  | "desk.count.visits_with_item" | "desk.review.list";

/** "{n} <noun>" with the plural form the current language wants for n. French
 * treats 0 and 1 as singular, English only 1; forms other than "one" (e.g. the
 * French "many" for millions) use the `.other` entry. */
export function counted(noun: Counted, n: number): string {
  const rule = new Intl.PluralRules(LOCALES[lang.value]).select(n) === "one" ? "one" : "other";
  return t(`${noun}.${rule}` as Key, { n: num(n, 0) });
}

/** A change in points with its direction: "▲ +56,6" in French, "▲ +56.6" in
 * English, "▼ −3,2" for a fall, "0" for none ("—" when unknown). */
export function change(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined) return "—";
  const rounded = Number(value.toFixed(digits));
  if (rounded > 0) return `▲ +${num(rounded, digits)}`;
  if (rounded < 0) return `▼ \u2212${num(-rounded, digits)}`;
  return num(0, digits);
}

/** A median of days to close: "—" when nothing was closed, "moins d'un jour" /
 * "under a day" below one day (a 0 would read as "closed at once"), else the
 * days with one decimal. */
export function daysToClose(days: number | null | undefined): string {
  if (days === null || days === undefined) return "—";
  if (days < 1) return t("desk.progress.under_a_day");
  return num(days);
}
