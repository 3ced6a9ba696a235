import {
  Map as MapLibreMap,
  NavigationControl,
  ScaleControl,
  setWorkerUrl,
  type ControlPosition,
  type GeoJSONSource,
} from "maplibre-gl";
import workerUrl from "maplibre-gl/dist/maplibre-gl-worker.mjs?worker&url";
import "maplibre-gl/dist/maplibre-gl.css";
import type { NetworkCollection } from "../api/types";
import { baseStyle, SOURCE } from "./layers";

setWorkerUrl(workerUrl);

/**
 * A MapLibre map on Headway's offline base style, kept flat (no rotation or pitch: a
 * city map read from above), with zoom buttons at `zoomAt` and a metric scale.
 * Both pages' maps start here; each adds its own sources and layers on "load".
 */
export function flatMap(container: HTMLElement, zoomAt: ControlPosition): MapLibreMap {
  const map = new MapLibreMap({
    container,
    style: baseStyle(),
    center: [0, 0],
    zoom: 1,
    attributionControl: false,
    dragRotate: false,
    pitchWithRotate: false,
  });
  map.touchZoomRotate.disableRotation();
  map.addControl(new NavigationControl({ showCompass: false }), zoomAt);
  map.addControl(new ScaleControl({ unit: "metric" }), "bottom-left");
  return map;
}

/** Draw the road network on `map` and frame the whole service area, `padding` pixels in. */
export function showNetwork(map: MapLibreMap, network: NetworkCollection, padding: number): void {
  void map.getSource<GeoJSONSource>(SOURCE.network)?.setData(network);
  const [w, s, e, n] = network.bbox;
  map.fitBounds(
    [
      [w, s],
      [e, n],
    ],
    { padding, animate: false },
  );
}
