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

/** The string for `key` in the current language, `{name}` placeholders filled. */
export function t(key: Key, params?: Record<string, string | number>): string {
  const text = catalogues[lang.value][key] ?? catalogues.fr[key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
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

/** "88,2 %" in French, "88.2%" in English; "—" when there is nothing to score. */
export function formatPercent(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  return (value / 100).toLocaleString(locales[lang.value], { style: "percent", maximumFractionDigits: 1 });
}
