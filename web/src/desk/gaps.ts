/** The gaps table's order (GapsMap.tsx), which its caption states
 * ("desk.gaps.table_caption"): keep the two together. */
const byName = new Intl.Collator("fr");

/** The table's order, as its caption says: facilities with a critical item
 * first, then those with no score yet, then from the lowest score up; by name
 * within the same score. */
export function gapOrder<Row extends { flagged: boolean; percent: number | null; facility_name: string }>(items: Row[]): Row[] {
  return [...items].sort((a, b) =>
    Number(b.flagged) - Number(a.flagged) || (a.percent ?? -1) - (b.percent ?? -1)
    || byName.compare(a.facility_name, b.facility_name));
}

