/**
 * The score colours of the desk view. The colour of a visit is decided by the
 * server from its template's thresholds (green / amber / red); here it is only
 * painted. The fills keep a 3:1 contrast with the white map ground, and every
 * coloured mark also carries its word or number, never colour alone.
 */
export type Colour = "green" | "amber" | "red" | "grey";

export const COLOURS: Record<Colour, { fill: string; text: string }> = {
  green: { fill: "#1a7f37", text: "#0f5223" },
  amber: { fill: "#c77700", text: "#7a4a00" },
  red: { fill: "#c62828", text: "#8e1b1b" },
  grey: { fill: "#767676", text: "#4a4a4a" },
};

export interface Thresholds { green: number; amber: number }

/** The same rule as the server (checklist.domain.colour), for legends and roll-ups. */
export function colourOf(percent: number | null | undefined, thresholds: Thresholds): Colour {
  if (percent == null) return "grey";
  if (percent >= thresholds.green) return "green";
  if (percent >= thresholds.amber) return "amber";
  return "red";
}
