/** A facility's score trend by section, drawn by uPlot (a maintained canvas
 * chart library of about 20 KB gzipped, made for time series). The same figures
 * are given as a table beside it for screen readers and print. */
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { pct } from "../format";
import { xRange } from "./range";

export interface TrendSeries { label: string; values: (number | null)[] }

// Distinct hues that stay apart for the common colour-vision deficiencies
// (Okabe-Ito), then a few more for the ninth and tenth lines.
const PALETTE = ["#000000", "#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00",
  "#CC79A7", "#7a6a00", "#5b5b5b", "#8c1c13"];

export function TrendChart({ times, series, title, timeLabel, locale, height = 300 }: {
  times: number[]; series: TrendSeries[]; title: string; timeLabel: string; locale: string;
  height?: number;
}) {
  const element = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!element.current) return;
    const day = new Intl.DateTimeFormat(locale, { day: "numeric", month: "short", year: "2-digit" });
    const width = Math.max(260, Math.min(element.current.clientWidth - 16, 960));
    const chart = new uPlot({
      title, width, height,
      legend: { live: false },
      // A lone visit would otherwise get an x-axis spanning years (uPlot widens
      // a zero-width range by orders of magnitude): show a month around it.
      scales: { x: { time: true, range: (_u, min, max) => xRange(min, max) }, y: { range: [0, 100] } },
      axes: [
        { values: (_u, ticks) => ticks.map((v) => day.format(new Date(v * 1000))), space: 70 },
        { values: (_u, ticks) => ticks.map((v) => pct(v)) },
      ],
      series: [{ label: timeLabel, value: (_u, v) => (v == null ? "" : day.format(new Date(v * 1000))) },
        ...series.map((s, i) => ({
        label: s.label, stroke: PALETTE[i % PALETTE.length], width: i === 0 ? 3 : 1.5,
        dash: i === 0 ? undefined : i % 2 ? [6, 3] : undefined,
        points: { show: true, size: 5 }, spanGaps: true,
      }))],
    }, [times, ...series.map((s) => s.values)] as uPlot.AlignedData, element.current);
    return () => chart.destroy();
  }, [times, series, title, height, locale]);
  return <div ref={element} class="trend-chart" role="img" aria-label={title} />;
}
