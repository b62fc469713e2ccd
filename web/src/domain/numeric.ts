/** Numeric items: what is typed, what is stored, what the input shows. */
import type { AnswerValue } from "./scoring";

/** A number typed by hand: a comma is a decimal point too; null for empty or not a number. */
export function parseNumber(raw: string): number | null {
  if (raw.trim() === "") return null;
  const n = Number(raw.trim().replace(",", "."));
  return Number.isNaN(n) ? null : n;
}

/** What a numeric item's input shows: always the stored answer. The text as typed
 * is kept only while it means that very answer ("7.0" while typing "7.05"); a
 * stored answer that is not a number (not applicable, or a value of another item
 * type) shows an empty input, never a stale number. */
export function numericText(typed: string, value: AnswerValue): string {
  if (typeof value !== "number") return "";
  return parseNumber(typed) === value ? typed : String(value);
}
