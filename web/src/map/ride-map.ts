import {
  LngLatBounds,
  Map as MapLibreMap,
  type GeoJSONSource,
  type MapMouseEvent,
} from "maplibre-gl";
import type { ExpressionSpecification, LayerSpecification } from "@maplibre/maplibre-gl-style-spec";
import type { LatLon, NetworkCollection } from "../api/types";
import { flatMap, showNetwork } from "./flat-map";
import { layers as liveLayers, SOURCE } from "./layers";
import { MAP_COLOR } from "./palette";
import { drawRideIcons, RIDE_COLOR } from "./ride-icons";

export type End = "pickup" | "dropoff";

export interface RideMapEvents {
  /** The map, its icons, sources and layers are ready for data. */
  ready(): void;
  /** The passenger tapped the map: a stop (snapped to it) or any other point. */
  pick(at: LatLon, stopId: string | null): void;
}

/** What the map shows of one end of the trip. */
export interface EndMarks {
  /** Where the passenger asked to be picked up or dropped off. */
  point: LatLon | null;
  /** The stop the service chose to meet at, once known. */
  stop: LatLon | null;
}

export interface ShuttleMark extends LatLon {
  heading_deg: number;
}

const RIDE_SOURCE = {
  ends: "ride-ends",
  walks: "ride-walks",
  meet: "ride-meet",
  nearby: "ride-nearby",
  shuttle: "ride-shuttle",
} as const;
export const SHUTTLE_LAYER = "ride-shuttle";
const STOP_LAYER = "ride-stops";
const HIT_SLOP = 10;
const EMPTY: GeoJSON.FeatureCollection = { type: "FeatureCollection", features: [] };
const ROADS = new Set(["roads-casing", "roads-minor", "roads-collector", "roads-arterial"]);

function zoomed(atZ11: number, atZ17: number): ExpressionSpecification {
  return ["interpolate", ["exponential", 1.5], ["zoom"], 11, atZ11, 17, atZ17];
}

function point(p: LatLon, props: Record<string, unknown> = {}): GeoJSON.Feature {
  return { type: "Feature", properties: props, geometry: { type: "Point", coordinates: [p.lon, p.lat] } };
}

function collection(features: GeoJSON.Feature[]): GeoJSON.FeatureCollection {
  return { type: "FeatureCollection", features };
}

function rideLayers(): LayerSpecification[] {
  return [
    {
      id: STOP_LAYER,
      type: "circle",
      source: SOURCE.network,
      filter: ["==", ["get", "kind"], "stop"],
      paint: {
        "circle-radius": zoomed(1.3, 5.5),
        "circle-color": MAP_COLOR.stop,
        "circle-stroke-color": MAP_COLOR.roadCasing,
        "circle-stroke-width": 0.8,
        "circle-opacity": 0.75,
      },
    },
    {
      id: "ride-nearby",
      type: "circle",
      source: RIDE_SOURCE.nearby,
      paint: {
        "circle-radius": zoomed(5, 11),
        "circle-color": "rgba(0,0,0,0)",
        "circle-stroke-color": RIDE_COLOR.nearby,
        "circle-stroke-width": 2,
      },
    },
    {
      id: "ride-walks",
      type: "line",
      source: RIDE_SOURCE.walks,
      layout: { "line-cap": "round" },
      paint: {
        "line-color": RIDE_COLOR.walk,
        "line-width": 2.5,
        "line-dasharray": [0.1, 2],
        "line-opacity": 0.9,
      },
    },
    {
      id: "ride-meet",
      type: "circle",
      source: RIDE_SOURCE.meet,
      paint: {
        "circle-radius": zoomed(6, 12),
        "circle-color": ["match", ["get", "end"], "pickup", RIDE_COLOR.pickup, RIDE_COLOR.dropoff],
        "circle-opacity": 0.35,
        "circle-stroke-color": ["match", ["get", "end"], "pickup", RIDE_COLOR.pickup, RIDE_COLOR.dropoff],
        "circle-stroke-width": 2.5,
      },
    },
    {
      id: "ride-ends",
      type: "symbol",
      source: RIDE_SOURCE.ends,
      layout: {
        "icon-image": ["match", ["get", "end"], "pickup", "pin-pickup", "pin-dropoff"],
        "icon-anchor": "bottom",
        "icon-allow-overlap": true,
        "icon-ignore-placement": true,
      },
    },
    {
      id: "ride-shuttle-halo",
      type: "circle",
      source: RIDE_SOURCE.shuttle,
      paint: {
        "circle-radius": 22,
        "circle-color": RIDE_COLOR.shuttle,
        "circle-opacity": 0.18,
        "circle-blur": 0.3,
      },
    },
    {
      id: SHUTTLE_LAYER,
      type: "symbol",
      source: RIDE_SOURCE.shuttle,
      layout: {
        "icon-image": "shuttle",
        "icon-rotate": ["get", "heading"],
        "icon-rotation-alignment": "map",
        "icon-allow-overlap": true,
        "icon-ignore-placement": true,
      },
    },
  ];
}

/**
 * The passenger's map: roads and stops, the two ends of the trip with the stops the
 * service chose and the walks to them, and the shuttle while the ride is on. Vue owns
 * the page; this class owns the WebGL map and nothing else.
 */
export class RideMap {
  readonly map: MapLibreMap;
  private loaded = false;

  constructor(container: HTMLElement, private readonly on: RideMapEvents) {
    this.map = flatMap(container, "top-right");
    this.map.on("load", () => this.onLoad());
  }

  get isLoaded(): boolean {
    return this.loaded;
  }

  private onLoad(): void {
    const m = this.map;
    for (const icon of drawRideIcons()) m.addImage(icon.name, icon.data, { pixelRatio: icon.pixelRatio });
    m.addSource(SOURCE.network, { type: "geojson", data: EMPTY });
    for (const id of Object.values(RIDE_SOURCE)) m.addSource(id, { type: "geojson", data: EMPTY });
    for (const layer of liveLayers()) if (ROADS.has(layer.id)) m.addLayer(layer);
    for (const layer of rideLayers()) m.addLayer(layer);
    m.on("click", (e) => this.onClick(e));
    m.getCanvas().style.cursor = "crosshair";
    this.loaded = true;
    this.on.ready();
  }

  private source(id: string): GeoJSONSource | undefined {
    return this.map.getSource<GeoJSONSource>(id);
  }

  setNetwork(network: NetworkCollection): void {
    showNetwork(this.map, network, 24);
  }

  /** Pins at the chosen points, rings at the meeting stops, dotted walks between. */
  setEnds(ends: Record<End, EndMarks>): void {
    const pins: GeoJSON.Feature[] = [];
    const meet: GeoJSON.Feature[] = [];
    const walks: GeoJSON.Feature[] = [];
    for (const end of ["pickup", "dropoff"] as const) {
      const { point: p, stop } = ends[end];
      if (p) pins.push(point(p, { end }));
      if (stop) meet.push(point(stop, { end }));
      if (p && stop) {
        walks.push({
          type: "Feature",
          properties: { end },
          geometry: { type: "LineString", coordinates: [[p.lon, p.lat], [stop.lon, stop.lat]] },
        });
      }
    }
    void this.source(RIDE_SOURCE.ends)?.setData(collection(pins));
    void this.source(RIDE_SOURCE.meet)?.setData(collection(meet));
    void this.source(RIDE_SOURCE.walks)?.setData(collection(walks));
  }

  setNearby(stops: LatLon[]): void {
    void this.source(RIDE_SOURCE.nearby)?.setData(collection(stops.map((s) => point(s))));
  }

  setShuttle(s: ShuttleMark | null): void {
    const features = s ? [point(s, { heading: s.heading_deg })] : [];
    void this.source(RIDE_SOURCE.shuttle)?.setData(collection(features));
  }

  /** Frame these points, leaving room for the pins drawn above them. */
  fit(points: LatLon[], animate = true, maxZoom = 16): void {
    if (!points.length) return;
    const b = new LngLatBounds();
    for (const p of points) b.extend([p.lon, p.lat]);
    this.map.fitBounds(b, { padding: { top: 64, bottom: 44, left: 40, right: 60 }, maxZoom, duration: animate ? 600 : 0 });
  }

  /** Where a point is drawn, in page pixels (used by end-to-end tests to tap it). */
  pagePoint(lon: number, lat: number): { x: number; y: number } {
    const p = this.map.project([lon, lat]);
    const r = this.map.getCanvas().getBoundingClientRect();
    return { x: r.left + p.x, y: r.top + p.y };
  }

  /** Shuttles drawn in the map's current view (0 or 1). */
  renderedShuttles(): number {
    if (!this.loaded) return 0;
    return this.map.queryRenderedFeatures({ layers: [SHUTTLE_LAYER] }).length;
  }

  private onClick(e: MapMouseEvent): void {
    const { x, y } = e.point;
    const hits = this.map.queryRenderedFeatures(
      [
        [x - HIT_SLOP, y - HIT_SLOP],
        [x + HIT_SLOP, y + HIT_SLOP],
      ],
      { layers: [STOP_LAYER] },
    );
    let best: { at: LatLon; id: string } | null = null;
    let bestD = Infinity;
    for (const f of hits) {
      if (f.geometry.type !== "Point") continue;
      const [lon, lat] = f.geometry.coordinates as [number, number];
      const p = this.map.project([lon, lat]);
      const d = (p.x - x) ** 2 + (p.y - y) ** 2;
      if (d < bestD) {
        bestD = d;
        best = { at: { lat, lon }, id: String(f.properties.id) };
      }
    }
    if (best) this.on.pick(best.at, best.id);
    else this.on.pick({ lat: e.lngLat.lat, lon: e.lngLat.lng }, null);
  }

  destroy(): void {
    this.map.remove();
  }
}
