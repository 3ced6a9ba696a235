import {
  Map as MapLibreMap,
  Popup,
  type GeoJSONSource,
  type MapGeoJSONFeature,
  type MapMouseEvent,
} from "maplibre-gl";
import type { NetworkCollection } from "../api/types";
import { flatMap, showNetwork } from "./flat-map";
import { drawIcons } from "./icons";
import {
  PLACE_LAYERS,
  ROAD_LAYERS,
  SOURCE,
  VEHICLE_LAYER,
  layers,
  sources,
} from "./layers";

export interface LiveMapEvents {
  /** The map, its icons, sources and layers are ready for data. */
  ready(): void;
  selectVehicle(id: string): void;
}

/** Pixels around a click that still count as hitting a vehicle. */
const HIT_SLOP = 8;

/**
 * The MapLibre map of the live page: the road network, places, vehicles and the selected
 * vehicle's track. Vue owns the page; this class owns the WebGL map and nothing else.
 */
export class LiveMap {
  readonly map: MapLibreMap;
  private loaded = false;
  private popup = new Popup({ closeButton: false, closeOnClick: true, offset: 12 });

  constructor(container: HTMLElement, private readonly on: LiveMapEvents) {
    this.map = flatMap(container, "bottom-right");
    this.map.on("load", () => this.onLoad());
  }

  get isLoaded(): boolean {
    return this.loaded;
  }

  private onLoad(): void {
    const m = this.map;
    for (const icon of drawIcons()) m.addImage(icon.name, icon.data, { pixelRatio: icon.pixelRatio });
    for (const [id, data] of Object.entries(sources())) m.addSource(id, { type: "geojson", data });
    for (const layer of layers()) m.addLayer(layer);

    m.on("click", (e) => this.onClick(e));
    m.on("mousemove", (e) => {
      const hit = this.vehicleAt(e) ?? this.placeAt(e);
      m.getCanvas().style.cursor = hit ? "pointer" : "";
    });
    this.loaded = true;
    this.on.ready();
  }

  private source(id: string): GeoJSONSource | undefined {
    return this.map.getSource<GeoJSONSource>(id);
  }

  setNetwork(network: NetworkCollection): void {
    showNetwork(this.map, network, 40);
  }

  setVehicles(data: GeoJSON.FeatureCollection): void {
    void this.source(SOURCE.vehicles)?.setData(data);
  }

  setTrack(coordinates: GeoJSON.Position[]): void {
    const data: GeoJSON.FeatureCollection =
      coordinates.length >= 2
        ? {
            type: "FeatureCollection",
            features: [{ type: "Feature", properties: {}, geometry: { type: "LineString", coordinates } }],
          }
        : { type: "FeatureCollection", features: [] };
    void this.source(SOURCE.track)?.setData(data);
  }

  setSelected(id: string | null): void {
    if (!this.loaded) return;
    this.map.setFilter("vehicle-selected", ["==", ["get", "id"], id ?? ""]);
  }

  flyTo(lon: number, lat: number): void {
    this.map.flyTo({ center: [lon, lat], zoom: Math.max(this.map.getZoom(), 15.5), speed: 1.6 });
  }

  /** Where a point is drawn, in page pixels (used by end-to-end tests to click it). */
  pagePoint(lon: number, lat: number): { x: number; y: number } {
    const p = this.map.project([lon, lat]);
    const r = this.map.getCanvas().getBoundingClientRect();
    return { x: r.left + p.x, y: r.top + p.y };
  }

  renderedVehicleIds(): Set<string> {
    if (!this.loaded) return new Set();
    const drawn = this.map.queryRenderedFeatures({ layers: [VEHICLE_LAYER] });
    return new Set(drawn.map((f) => String(f.properties.id)));
  }

  renderedRoadCount(): number {
    if (!this.loaded) return 0;
    return this.map.queryRenderedFeatures({ layers: [...ROAD_LAYERS] }).length;
  }

  private nearest(e: MapMouseEvent, layerIds: string[]): MapGeoJSONFeature | undefined {
    const { x, y } = e.point;
    const hits = this.map.queryRenderedFeatures(
      [
        [x - HIT_SLOP, y - HIT_SLOP],
        [x + HIT_SLOP, y + HIT_SLOP],
      ],
      { layers: layerIds },
    );
    let best: MapGeoJSONFeature | undefined;
    let bestD = Infinity;
    for (const f of hits) {
      if (f.geometry.type !== "Point") continue;
      const [lon, lat] = f.geometry.coordinates as [number, number];
      const p = this.map.project([lon, lat]);
      const d = (p.x - x) ** 2 + (p.y - y) ** 2;
      if (d < bestD) {
        bestD = d;
        best = f;
      }
    }
    return best;
  }

  private vehicleAt(e: MapMouseEvent): MapGeoJSONFeature | undefined {
    return this.nearest(e, [VEHICLE_LAYER]);
  }

  private placeAt(e: MapMouseEvent): MapGeoJSONFeature | undefined {
    return this.nearest(e, [...PLACE_LAYERS]);
  }

  private onClick(e: MapMouseEvent): void {
    const v = this.vehicleAt(e);
    if (v) {
      this.popup.remove();
      this.on.selectVehicle(String(v.properties.id));
      return;
    }
    const place = this.placeAt(e);
    if (place && place.geometry.type === "Point") {
      this.popup
        .setLngLat(place.geometry.coordinates as [number, number])
        .setDOMContent(placeCard(place.properties))
        .addTo(this.map);
    }
  }

  destroy(): void {
    this.popup.remove();
    this.map.remove();
  }
}

/** Popup body for a stop, depot or charger, built as DOM so names are never parsed as HTML. */
function placeCard(p: Record<string, unknown>): HTMLElement {
  const el = document.createElement("div");
  el.className = "place-card";
  const title = document.createElement("strong");
  title.textContent = String(p.name ?? p.id ?? "");
  const kind = document.createElement("span");
  kind.className = "place-kind";
  kind.textContent = String(p.kind ?? "");
  el.append(kind, title);
  const facts: string[] = [];
  if (p.kind === "depot" && p.capacity != null) facts.push(`${String(p.capacity)} bays`);
  if (p.kind === "charger") {
    if (p.plugs != null) facts.push(`${String(p.plugs)} plugs`);
    if (p.power_kw != null) facts.push(`${String(p.power_kw)} kW`);
  }
  if (facts.length) {
    const line = document.createElement("span");
    line.textContent = facts.join(" · ");
    el.append(line);
  }
  return el;
}
