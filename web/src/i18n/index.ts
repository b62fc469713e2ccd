/** Strings of the interface, French first, English available.
 *
 * `fr.ts` is the reference catalogue: its keys type `t()`, and `en.ts` must have
 * the same keys (the compiler says so, and tests/unit/catalogues.test.ts checks
 * the placeholders too). Template labels (`label_fr` / `label_en`) come from the
 * API and are picked with `pick()`. */
import { signal } from "@preact/signals";
import { fr } from "./fr";
import { en } from "./en";

export type Lang = "fr" | "en";
export type Key = keyof typeof fr;
export const catalogues: Record<Lang, Record<Key, string>> = { fr, en };

const stored = typeof localStorage !== "undefined" ? localStorage.getItem("c2p.lang") : null;
export const lang = signal<Lang>(stored === "en" ? "en" : "fr");

export function setLang(next: Lang) {
  lang.value = next;
  try { localStorage.setItem("c2p.lang", next); } catch { /* private mode: not kept */ }
  if (typeof document !== "undefined") document.documentElement.lang = next;
}

/** The string for `key` in the current language, `{name}` placeholders filled;
 * a number is written the language's way (formatNumber: "2,5" in French). */
export function t(key: Key, params?: Record<string, string | number>): string {
  const text = catalogues[lang.value][key] ?? catalogues.fr[key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (_, name) => {
    if (!(name in params)) return `{${name}}`;
    const value = params[name];
    return typeof value === "number" ? formatNumber(value, 3) : value;
  });
}

/** Keys that come as a pair `<key>.one` / `<key>.other` in the catalogues. */
export type Counted = { [K in Key]: K extends `${infer Base}.one` ? (`${Base}.other` extends Key ? Base : never) : never }[Key];

/** `<key>.one` or `<key>.other`, whichever the current language wants for n (French
 * treats 0 and 1 as singular, English 1 only; Intl.PluralRules decides), `{n}`
 * filled with n written the language's way. */
export function tn(key: Counted, n: number, params?: Record<string, string | number>): string {
  const form = new Intl.PluralRules(locales[lang.value]).select(n) === "one" ? "one" : "other";
  return t(`${key}.${form}` as Key, { ...params, n: formatNumber(n, 0) });
}

/** `obj.<field>_fr` or `obj.<field>_en` (template labels, plan texts). */
export function pick(from: object | null | undefined, field: string): string {
  if (!from) return "";
  const obj = from as Record<string, unknown>;
  const value = obj[`${field}_${lang.value}`] ?? obj[`${field}_fr`] ?? obj[`${field}_en`];
  return typeof value === "string" ? value : "";
}

const locales: Record<Lang, string> = { fr: "fr-ML", en: "en-GB" };

export function formatDateTime(iso: string | number | null | undefined): string {
  if (iso === null || iso === undefined || iso === "") return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return date.toLocaleString(locales[lang.value], { dateStyle: "medium", timeStyle: "short" });
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso.length === 10 ? `${iso}T12:00:00` : iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleDateString(locales[lang.value], { dateStyle: "medium" });
}

/** A number in the current language: "1 234,5" (decimal comma, U+202F between
 * thousands) in French, "1,234.5" in English; at most `digits` decimals, none
 * added; "—" for no number. Every number the field app shows goes through here
 * (or formatPercent). */
export function formatNumber(value: number | null | undefined, digits = 1, fixed = false): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  return new Intl.NumberFormat(locales[lang.value],
    { maximumFractionDigits: digits, minimumFractionDigits: fixed ? digits : 0 }).format(value);
}

/** A distance: "850 m", "2,5 km" in French. */
export function formatDistance(metres: number): string {
  return Math.round(metres) < 1000 ? `${formatNumber(Math.round(metres), 0)} m` : `${formatNumber(metres / 1000, 1)} km`;
}

/** "88,2 %" in French (a narrow no-break space, U+202F, before %: the ICU of
 * the browser or Node may put U+00A0 there), "88.2%" in English; "—" when there
 * is nothing to score. */
export function formatPercent(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  return `${formatNumber(value, 1)}${lang.value === "fr" ? "\u202f" : ""}%`;
}
