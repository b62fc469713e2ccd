/** Facilities drawn on top of each other (the CSComs of one town, a few hundred
 * metres apart, are one pixel apart at the scale of a region) are fanned out
 * around their common centre, so each dot can be seen, pointed at and clicked.
 * Plain geometry on screen points (pixels at the map's current zoom): the map
 * projects, calls this, and draws each dot at the point it gets back.
 *
 * Points closer than `gap` to one another (chained: a to b to c) form a group;
 * a group of n is laid out on a circle round its centroid, neighbours `gap`
 * apart, in the order the points were given (stable from one zoom to the next).
 * A point alone keeps its place, and so do the points of a group larger than
 * `most` (a city's dozens of centres at the scale of the country would make a
 * ring wider than the city: zooming in, or the table, reads those; a clustering
 * library would be the tool for that, and the desk does not carry one). */
export interface Point { x: number; y: number }

export function fanOut(points: Point[], gap: number, most = 8): Point[] {
  const parent = points.map((_, i) => i);
  const root = (i: number): number => {
    while (parent[i] !== i) { parent[i] = parent[parent[i]]; i = parent[i]; }
    return i;
  };
  // Points by grid cell of side `gap`: only the 9 cells around a point can hold
  // points nearer than `gap`, so 2,000 facilities cost 2,000 small lookups.
  const cells = new Map<string, number[]>();
  const cellOf = (p: Point) => [Math.floor(p.x / gap), Math.floor(p.y / gap)];
  points.forEach((p, i) => {
    const [cx, cy] = cellOf(p);
    for (let dx = -1; dx <= 1; dx += 1) for (let dy = -1; dy <= 1; dy += 1) {
      for (const j of cells.get(`${cx + dx},${cy + dy}`) ?? []) {
        if (Math.hypot(points[j].x - p.x, points[j].y - p.y) < gap) parent[root(i)] = root(j);
      }
    }
    const key = `${cx},${cy}`;
    const cell = cells.get(key);
    if (cell) cell.push(i); else cells.set(key, [i]);
  });
  const groups = new Map<number, number[]>();
  points.forEach((_, i) => {
    const r = root(i);
    const group = groups.get(r);
    if (group) group.push(i); else groups.set(r, [i]);
  });
  const out = points.map((p) => ({ x: p.x, y: p.y }));
  for (const members of groups.values()) {
    if (members.length < 2 || members.length > most) continue;
    const cx = members.reduce((s, i) => s + points[i].x, 0) / members.length;
    const cy = members.reduce((s, i) => s + points[i].y, 0) / members.length;
    // n points `gap` apart on a circle: chord gap = 2 r sin(pi / n).
    const radius = gap / (2 * Math.sin(Math.PI / members.length));
    members.forEach((i, k) => {
      const angle = -Math.PI / 2 + (2 * Math.PI * k) / members.length;
      out[i] = { x: cx + radius * Math.cos(angle), y: cy + radius * Math.sin(angle) };
    });
  }
  return out;
}
