/** Map dots drawn on top of each other (a town's CSComs) are fanned out. */
import { describe, expect, it } from "vitest";
import { fanOut } from "../../src/desk/map/fan";

describe("map: dots on top of each other are fanned out", () => {
  const apart = (points: { x: number; y: number }[]) => {
    let least = Infinity;
    for (let i = 0; i < points.length; i += 1) for (let j = i + 1; j < points.length; j += 1) {
      least = Math.min(least, Math.hypot(points[i].x - points[j].x, points[i].y - points[j].y));
    }
    return least;
  };

  it("spreads a town's CSComs at least a dot apart and leaves a lone one in place", () => {
    const town = [{ x: 100, y: 100 }, { x: 100, y: 100 }, { x: 101, y: 99 }, { x: 103, y: 101 }];
    const alone = { x: 300, y: 40 };
    const out = fanOut([...town, alone], 13);
    expect(apart(out.slice(0, 4))).toBeGreaterThanOrEqual(13 - 1e-9);
    expect(out[4]).toEqual(alone);
    // around the town's centre, not off somewhere else
    const cx = out.slice(0, 4).reduce((s, p) => s + p.x, 0) / 4;
    expect(Math.abs(cx - 101)).toBeLessThan(1e-9);
  });

  it("does nothing to dots already apart", () => {
    const points = [{ x: 0, y: 0 }, { x: 20, y: 0 }, { x: 0, y: 20 }];
    expect(fanOut(points, 13)).toEqual(points);
  });

  it("leaves a group larger than the limit where it is (no ring wider than a city)", () => {
    const city = Array.from({ length: 9 }, (_, i) => ({ x: 50 + i, y: 50 }));
    expect(fanOut(city, 13, 8)).toEqual(city);
    expect(apart(fanOut(city.slice(0, 8), 13, 8))).toBeGreaterThanOrEqual(13 - 1e-9);
  });
});
