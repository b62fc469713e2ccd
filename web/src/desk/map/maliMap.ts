/**
 * The desk view's map of Mali, drawn by Leaflet with no tile server: the
 * boundaries shipped in mali.topo.json (regions from Natural Earth, districts
 * approximated, see web/tools/boundaries/README.md) and one circle per facility.
 *
 * Every layer draws on one shared canvas renderer: 2,000 facilities as SVG
 * elements would make each pan and zoom restyle thousands of DOM nodes, the
 * canvas redraws them in one pass. Leaflet does all the projecting.
 */
import L from "leaflet";
import "leaflet/dist/leaflet.css";
import { feature } from "topojson-client";
import type { Topology, GeometryCollection } from "topojson-specification";
import topo from "./mali.topo.json";
import { COLOURS, type Colour } from "../colours";
import { fanOut } from "./fan";

export interface MapFacility {
  facility_id: string;
  facility_name: string;
  latitude: number | null;
  longitude: number | null;
  colour: string | null;
  flagged: boolean;
  percent: number | null;
}

export interface MaliMap {
  setFacilities(rows: MapFacility[]): number;
  /** Frame the given facilities (or the whole country when none has a place). */
  fit(rows: MapFacility[]): void;
  highlightDistrict(name: string | null): void;
  leaflet: L.Map;
  /** Stop what moves, cancel what Leaflet has scheduled, remove the map. Once
   * destroyed, the other methods do nothing. */
  destroy(): void;
}

const MALI_BOUNDS = L.latLngBounds([10.1, -12.3], [25.0, 4.3]);

function normalise(text: string) {
  return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
    .replace(/^(district( sanitaire)? de |cercle de )/, "").trim();
}

function sized(critical: boolean, zoom: number) {
  const radius = zoom < 6.5 ? 3.5 : zoom < 8 ? 5 : 7;
  return { radius: critical ? radius + 1 : radius,
    weight: critical ? (zoom < 6.5 ? 1.5 : 2.5) : (zoom < 6.5 ? 0.5 : 1) };
}

/** Remove a map that may be moving. Leaflet's `remove()` takes the panes away
 * but leaves what it has already scheduled: a zoom animation's end (a 250 ms
 * timeout, then `_move`), its first frame, a scroll-wheel zoom waiting for the
 * wheel to stop. Each of them, run after the removal, reads the position of a
 * pane that is gone ("Cannot read properties of undefined (reading
 * '_leaflet_pos')"), e.g. when the user leaves the map while `fit` animates.
 * So: mark the zoom animation as over (its pending end then returns at once),
 * cancel the wheel's pending zoom, remove (which stops the pan and fly
 * animations), drop every listener, and turn the moving methods of this one
 * map into no-ops for anything still scheduled. */
export function stopAndRemove(map: L.Map): void {
  const inner = map as unknown as Record<string, unknown>;
  // (Not map.stop(): that sets the zoom again, i.e. may start a move.)
  inner._animatingZoom = false;
  const wheel = map.scrollWheelZoom as unknown as { _timer?: ReturnType<typeof setTimeout> } | undefined;
  if (wheel?._timer) clearTimeout(wheel._timer);
  map.remove(); // also stops the pan and fly animations (`_stop`)
  map.off();
  const still = function (this: L.Map) { return this; };
  for (const name of ["setView", "setZoom", "setZoomAround", "fitBounds", "panBy", "panTo", "flyTo",
    "invalidateSize", "_resetView", "_moveStart", "_move", "_moveEnd", "_animateZoom",
    "_onZoomTransitionEnd", "_tryAnimatedZoom", "_rawPanBy", "_onResize"]) inner[name] = still;
  inner._getMapPanePos = () => L.point(0, 0);
}

/** A canvas renderer that draws nothing once its canvas is gone. Leaflet's canvas
 * deletes its 2D context when it is removed, but a redraw may still come: a frame
 * requested with the function bound before the removal, or an `update` of a move
 * that ends after it; it then fails on the missing context ("Cannot read
 * properties of undefined (reading 'save')", seen when a coach leaves the map
 * while it zooms). Wrapped on the instance, before anything is scheduled. */
export function canvasRenderer(options: L.RendererOptions): L.Canvas {
  const renderer = L.canvas(options);
  const inner = renderer as unknown as Record<string, unknown> & { _ctx?: unknown };
  for (const name of ["_redraw", "_draw", "_clear", "_update", "_updatePaths"]) {
    const original = inner[name] as (...args: unknown[]) => unknown;
    inner[name] = function (this: typeof inner, ...args: unknown[]) {
      if (!this._ctx) { this._redrawRequest = null; return undefined; }
      return original.apply(this, args);
    };
  }
  return renderer;
}

export function createMaliMap(element: HTMLElement, opts: {
  label: (row: MapFacility) => string;
  onOpen: (facilityId: string) => void;
}): MaliMap {
  let destroyed = false;
  const renderer = canvasRenderer({ padding: 0.3, tolerance: 4 });
  const map = L.map(element, {
    renderer, preferCanvas: true, zoomSnap: 0.25, minZoom: 4, maxZoom: 13,
    maxBounds: MALI_BOUNDS.pad(0.6), attributionControl: true,
  });
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution(
    "Natural Earth · GeoNames (CC BY 4.0) · districts approx.");
  map.fitBounds(MALI_BOUNDS);

  const t = topo as unknown as Topology;
  const layer = (name: string) =>
    feature(t, t.objects[name] as GeometryCollection) as unknown as GeoJSON.FeatureCollection;
  L.geoJSON(layer("neighbours"), { interactive: false,
    style: { color: "#b9b9b9", weight: 1, fillColor: "#efefef", fillOpacity: 1 } }).addTo(map);
  const districtStyle = { color: "#8a8a8a", weight: 0.8, dashArray: "3 3",
    fillColor: "#fffdf5", fillOpacity: 1 };
  const districts = L.geoJSON(layer("districts"), { interactive: false,
    style: districtStyle }).addTo(map);
  const regions = layer("regions");
  L.geoJSON(regions, { interactive: false,
    style: { color: "#3d3d3d", weight: 1.6, fill: false } }).addTo(map);

  // Names on the map: regions always, districts once zoomed in enough to read them
  // (at their seat town). A few dozen DOM labels cost nothing next to the dots.
  const label = (text: string, at: L.LatLngExpression, kind: string) => {
    const span = document.createElement("span");
    span.textContent = text;
    return L.tooltip({ permanent: true, direction: "center", interactive: false,
      className: `map-label ${kind}` }).setLatLng(at).setContent(span);
  };
  const regionLabels = L.layerGroup(regions.features.map((f) => label(String(f.properties?.name),
    L.geoJSON(f).getBounds().getCenter(), "region-label"))).addTo(map);
  const districtLabels = L.layerGroup(layer("districts").features.map((f) => {
    const [lon, lat] = f.properties?.seat as [number, number];
    return label(String(f.properties?.name), [lat, lon], "district-label");
  }));
  const showLabels = () => {
    const zoom = map.getZoom();
    if (zoom >= 7) { districtLabels.addTo(map); regionLabels.remove(); }
    else { districtLabels.remove(); regionLabels.addTo(map); }
  };
  map.on("zoomend", showLabels);
  showLabels();

  let highlighted: L.Polygon | null = null;
  let facilities = L.featureGroup().addTo(map);
  const markers = new Map<string, L.CircleMarker>();
  const flagged = new Map<L.CircleMarker, boolean>();
  const rowOf = new Map<L.Layer, MapFacility>();
  // One tooltip and one click handler for every dot (events bubble from the dots
  // to their group): 2,000 tooltips and closures would cost more than the dots.
  const tooltip = L.tooltip({ direction: "top", offset: [0, -6] });
  const wire = (group: L.FeatureGroup) => group
    .on("mouseover", (e) => {
      const row = rowOf.get(e.propagatedFrom);
      if (row) tooltip.setLatLng(e.latlng).setContent(opts.label(row)).addTo(map);
    })
    .on("mouseout", () => tooltip.remove())
    .on("click", (e) => {
      const row = rowOf.get(e.propagatedFrom);
      if (row) opts.onOpen(row.facility_id);
    });
  wire(facilities);
  // Dots grow with the zoom: at the scale of the country 2,000 full-size dots
  // would hide each other and the borders. Dots that would still cover each other
  // at this zoom (a town's CSComs) are fanned out round their centre (./fan.ts);
  // `placeOf` keeps each facility's own place, `fanned` the dots moved off it.
  const placeOf = new Map<L.CircleMarker, L.LatLng>();
  const fanned = new Set<L.CircleMarker>();
  const spread = () => {
    const zoom = map.getZoom();
    const all = [...placeOf];
    const gap = 2 * sized(false, zoom).radius + 3;
    const points = fanOut(all.map(([, at]) => map.project(at, zoom)), gap);
    all.forEach(([marker, at], i) => {
      const own = map.project(at, zoom);
      const moved = Math.abs(points[i].x - own.x) > 0.5 || Math.abs(points[i].y - own.y) > 0.5;
      if (moved) { marker.setLatLng(map.unproject(L.point(points[i].x, points[i].y), zoom)); fanned.add(marker); }
      else if (fanned.delete(marker)) marker.setLatLng(at);
    });
  };
  map.on("zoomend", () => {
    const zoom = map.getZoom();
    for (const [marker, critical] of flagged) marker.setStyle(sized(critical, zoom));
    spread();
  });
  // For the browser tests and the bench (web/tests/browser, web/bench/desk.mjs):
  // where each facility is drawn, and when the map has settled after a move.
  (window as unknown as { c2pDeskMap?: unknown }).c2pDeskMap = { map, markers };
  map.on("moveend", () => element.dispatchEvent(new CustomEvent("c2p:moveend")));

  return {
    leaflet: map,
    setFacilities(rows) {
      if (destroyed) return 0;
      // The dots go into a group off the map, which joins it once, whole.
      facilities.remove();
      facilities = wire(L.featureGroup());
      markers.clear();
      flagged.clear();
      rowOf.clear();
      placeOf.clear();
      fanned.clear();
      tooltip.remove();
      let drawn = 0;
      for (const row of rows) {
        if (row.latitude == null || row.longitude == null) continue;
        const colour = COLOURS[(row.colour as Colour) ?? "grey"] ?? COLOURS.grey;
        const marker = L.circleMarker([row.latitude, row.longitude], {
          renderer, ...sized(row.flagged, map.getZoom()),
          color: row.flagged ? "#000000" : "#ffffff", fillColor: colour.fill, fillOpacity: 1,
        });
        flagged.set(marker, row.flagged);
        rowOf.set(marker, row);
        placeOf.set(marker, L.latLng(row.latitude, row.longitude));
        facilities.addLayer(marker);
        markers.set(row.facility_id, marker);
        drawn += 1;
      }
      spread();
      facilities.addTo(map);
      element.dataset.facilitiesDrawn = String(drawn);
      return drawn;
    },
    fit(rows) {
      if (destroyed) return;
      // The facilities, and the highlighted district whole: a coach sees their
      // district in its surroundings, not only the patch between their dots.
      const points = rows.filter((r) => r.latitude != null && r.longitude != null)
        .map((r) => L.latLng(r.latitude as number, r.longitude as number));
      let bounds = points.length ? L.latLngBounds(points) : null;
      if (highlighted) bounds = bounds ? bounds.extend(highlighted.getBounds()) : highlighted.getBounds();
      if (!bounds) map.fitBounds(MALI_BOUNDS);
      else map.fitBounds(bounds.pad(0.15), { maxZoom: 9 });
    },
    highlightDistrict(name) {
      if (destroyed) return;
      const wanted = name ? normalise(name) : null;
      highlighted = null;
      districts.eachLayer((layer) => {
        const f = (layer as L.Polygon).feature;
        const match = !!wanted && normalise(String(f?.properties?.name)) === wanted;
        if (match) highlighted = layer as L.Polygon;
        (layer as L.Polygon).setStyle(match
          ? { ...districtStyle, fillColor: "#e8f1ff", color: "#1f4e9c", weight: 2, dashArray: "" }
          : districtStyle);
      });
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      stopAndRemove(map);
      delete (window as unknown as { c2pDeskMap?: unknown }).c2pDeskMap;
    },
  };
}
