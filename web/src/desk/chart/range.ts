/** The trend chart's time axis, kept apart from uPlot so it can be unit-tested
 * without a canvas. */
const HALF_MONTH = 15 * 24 * 3600;

/** The x-axis range in seconds: the data's own span, or +/- 15 days around a
 * single point (or several on the same instant). */
export function xRange(min: number | null, max: number | null): [number, number] {
  if (min == null || max == null) return [0, 2 * HALF_MONTH];
  if (max - min < 1) return [min - HALF_MONTH, max + HALF_MONTH];
  return [min, max];
}
