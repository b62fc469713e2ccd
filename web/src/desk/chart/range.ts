/** The trend chart's time axis, kept apart from uPlot so it can be unit-tested
 * without a canvas. */
const DAY = 24 * 3600;
const HALF_MONTH = 15 * DAY;

/** The x-axis range in seconds: the data's own span, or +/- 15 days around the
 * points when they fall within a few days (one visit, or two on the same day:
 * uPlot's day ticks on a span of minutes ran over years). */
export function xRange(min: number | null, max: number | null): [number, number] {
  if (min == null || max == null) return [0, 2 * HALF_MONTH];
  if (max - min < 2 * DAY) {
    const middle = (min + max) / 2;
    return [middle - HALF_MONTH, middle + HALF_MONTH];
  }
  return [min, max];
}
