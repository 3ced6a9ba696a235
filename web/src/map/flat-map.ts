import {
  Map as MapLibreMap,
  NavigationControl,
  ScaleControl,
  setWorkerUrl,
  type ControlPosition,
} from "maplibre-gl";
import workerUrl from "maplibre-gl/dist/maplibre-gl-worker.mjs?worker&url";
import "maplibre-gl/dist/maplibre-gl.css";
import { baseStyle } from "./layers";

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
