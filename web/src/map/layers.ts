import type {
  ExpressionSpecification,
  LayerSpecification,
  StyleSpecification,
} from "@maplibre/maplibre-gl-style-spec";
import { MAP_COLOR, STATUS_COLOR } from "./palette";

export const SOURCE = { network: "network", vehicles: "vehicles", track: "track" } as const;
export const VEHICLE_LAYER = "vehicles";
export const PLACE_LAYERS = ["depots", "chargers", "stops"] as const;
export const ROAD_LAYERS = ["roads-minor", "roads-collector", "roads-arterial"] as const;

const EMPTY: GeoJSON.FeatureCollection = { type: "FeatureCollection", features: [] };

/** Widths grow with zoom, exponentially like real street maps. */
function byZoom(atZ12: number, atZ18: number): ExpressionSpecification {
  return ["interpolate", ["exponential", 1.5], ["zoom"], 12, atZ12, 18, atZ18];
}

const isRoad: ExpressionSpecification = ["==", ["get", "kind"], "road"];
const roadClass = (...classes: string[]): ExpressionSpecification => [
  "all",
  isRoad,
  ["in", ["get", "class"], ["literal", classes]],
];
const ARTERIAL = ["motorway", "trunk", "primary", "arterial"];
const COLLECTOR = ["secondary", "tertiary", "collector"];

/** Width per class; `extra` widens it evenly for the casing drawn underneath. */
function roadWidth(extra = 0): ExpressionSpecification {
  return [
    "interpolate",
    ["exponential", 1.5],
    ["zoom"],
    12,
    ["match", ["get", "class"], ARTERIAL, 2.2 + extra, COLLECTOR, 1.4 + extra, 0.8 + extra],
    18,
    ["match", ["get", "class"], ARTERIAL, 18 + extra, COLLECTOR, 12 + extra, 8 + extra],
  ];
}

const roadColor: ExpressionSpecification = [
  "match",
  ["get", "class"],
  ARTERIAL,
  MAP_COLOR.arterial,
  COLLECTOR,
  MAP_COLOR.collector,
  "residential",
  MAP_COLOR.residential,
  MAP_COLOR.minor,
];

const statusColor: ExpressionSpecification = [
  "match",
  ["get", "status"],
  "driving",
  STATUS_COLOR.driving,
  "idle",
  STATUS_COLOR.idle,
  "charging",
  STATUS_COLOR.charging,
  "fault",
  STATUS_COLOR.fault,
  STATUS_COLOR.offline,
];

const vehicleRadius = byZoom(4.5, 11);
const ringRadius = byZoom(9, 17);

/** Background only: sources and layers are added once the map has loaded. */
export function baseStyle(): StyleSpecification {
  return {
    version: 8,
    name: "Headway",
    sources: {},
    layers: [
      { id: "background", type: "background", paint: { "background-color": MAP_COLOR.background } },
    ],
  };
}

export function sources(): Record<string, GeoJSON.FeatureCollection> {
  return { [SOURCE.network]: EMPTY, [SOURCE.vehicles]: EMPTY, [SOURCE.track]: EMPTY };
}

export function layers(): LayerSpecification[] {
  return [
    {
      id: "roads-casing",
      type: "line",
      source: SOURCE.network,
      filter: roadClass(...ARTERIAL, ...COLLECTOR),
      layout: { "line-cap": "round", "line-join": "round" },
      paint: {
        "line-color": MAP_COLOR.roadCasing,
        "line-width": roadWidth(2),
        "line-opacity": 0.9,
      },
    },
    {
      id: "roads-minor",
      type: "line",
      source: SOURCE.network,
      filter: ["all", isRoad, ["!", ["in", ["get", "class"], ["literal", [...ARTERIAL, ...COLLECTOR]]]]],
      layout: { "line-cap": "round", "line-join": "round" },
      paint: { "line-color": roadColor, "line-width": roadWidth() },
    },
    {
      id: "roads-collector",
      type: "line",
      source: SOURCE.network,
      filter: roadClass(...COLLECTOR),
      layout: { "line-cap": "round", "line-join": "round" },
      paint: { "line-color": roadColor, "line-width": roadWidth() },
    },
    {
      id: "roads-arterial",
      type: "line",
      source: SOURCE.network,
      filter: roadClass(...ARTERIAL),
      layout: { "line-cap": "round", "line-join": "round" },
      paint: { "line-color": roadColor, "line-width": roadWidth() },
    },
    {
      id: "track",
      type: "line",
      source: SOURCE.track,
      layout: { "line-cap": "round", "line-join": "round" },
      paint: {
        "line-color": MAP_COLOR.track,
        "line-width": byZoom(2, 5),
        "line-opacity": 0.85,
        "line-dasharray": [1.5, 1],
      },
    },
    {
      id: "stops",
      type: "circle",
      source: SOURCE.network,
      filter: ["==", ["get", "kind"], "stop"],
      minzoom: 12.5,
      paint: {
        "circle-radius": byZoom(1.6, 5),
        "circle-color": MAP_COLOR.stop,
        "circle-stroke-color": MAP_COLOR.roadCasing,
        "circle-stroke-width": 1,
        "circle-opacity": 0.85,
      },
    },
    {
      id: "depots",
      type: "symbol",
      source: SOURCE.network,
      filter: ["==", ["get", "kind"], "depot"],
      layout: {
        "icon-image": "depot",
        "icon-size": ["interpolate", ["linear"], ["zoom"], 11, 0.8, 16, 1.2],
        "icon-allow-overlap": true,
        "icon-ignore-placement": true,
      },
    },
    {
      id: "chargers",
      type: "symbol",
      source: SOURCE.network,
      filter: ["==", ["get", "kind"], "charger"],
      layout: {
        "icon-image": "charger",
        "icon-size": ["interpolate", ["linear"], ["zoom"], 11, 0.7, 16, 1.1],
        "icon-allow-overlap": true,
        "icon-ignore-placement": true,
      },
    },
    {
      id: "vehicles-alert",
      type: "circle",
      source: SOURCE.vehicles,
      filter: ["get", "alerting"],
      paint: {
        "circle-radius": ringRadius,
        "circle-color": MAP_COLOR.alertHalo,
        "circle-opacity": 0.28,
        "circle-blur": 0.4,
      },
    },
    {
      id: VEHICLE_LAYER,
      type: "circle",
      source: SOURCE.vehicles,
      paint: {
        "circle-radius": vehicleRadius,
        "circle-color": statusColor,
        "circle-stroke-color": MAP_COLOR.roadCasing,
        "circle-stroke-width": 1.25,
      },
    },
    {
      id: "vehicle-selected",
      type: "circle",
      source: SOURCE.vehicles,
      filter: ["==", ["get", "id"], ""],
      paint: {
        "circle-radius": ringRadius,
        "circle-color": "rgba(0,0,0,0)",
        "circle-stroke-color": MAP_COLOR.selected,
        "circle-stroke-width": 2.5,
      },
    },
  ];
}
