import type { LatLon, NetworkCollection } from "../api/types";

/** A stop of the network: where shuttles meet their passengers. */
export interface Stop {
  id: string;
  name: string;
  lat: number;
  lon: number;
}

export interface NearStop extends Stop {
  distance_m: number;
}

const EARTH_RADIUS_M = 6_371_008.8;

/** Great-circle distance; exact enough at the scale of a walk. */
export function distanceM(a: LatLon, b: LatLon): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** The stops of the network GeoJSON, by id. */
export function stopsOf(network: NetworkCollection): Map<string, Stop> {
  const stops = new Map<string, Stop>();
  for (const f of network.features) {
    if (f.properties.kind !== "stop" || f.geometry.type !== "Point") continue;
    const [lon, lat] = f.geometry.coordinates as [number, number];
    stops.set(f.properties.id, { id: f.properties.id, name: f.properties.name, lat, lon });
  }
  return stops;
}

/**
 * The stops within `radiusM` of a point, nearest first, one per name: two stops facing
 * each other across a street share a name and a meeting point, and listing both would
 * only confuse.
 */
export function nearbyStops(
  stops: Iterable<Stop>,
  at: LatLon,
  radiusM: number,
  limit: number,
): NearStop[] {
  const near: NearStop[] = [];
  for (const s of stops) {
    const d = distanceM(at, s);
    if (d <= radiusM) near.push({ ...s, distance_m: d });
  }
  near.sort((a, b) => a.distance_m - b.distance_m);
  const seen = new Set<string>();
  const out: NearStop[] = [];
  for (const s of near) {
    if (seen.has(s.name)) continue;
    seen.add(s.name);
    out.push(s);
    if (out.length === limit) break;
  }
  return out;
}
