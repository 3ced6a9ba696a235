/**
 * `window.__headway`: what the page shows, in numbers, for end-to-end tests and for
 * anyone debugging from the browser console. Updated once per rendered frame.
 */
export interface HeadwayProbe {
  /** Vehicles currently drawn on the map. */
  vehicles: number;
  /** The map has loaded and the road network is drawn. */
  mapLoaded: boolean;
  /** Live frames received since the page opened. */
  frames: number;
  /** The vehicle whose panel is open. */
  selected: string | null;
  /** Opens a vehicle's panel, as a click on it would. */
  select(id: string): void;
  /** Where a vehicle is drawn, in page pixels, or null if it is unknown. */
  pagePoint(id: string): { x: number; y: number } | null;
  /** Ids of the vehicles the page knows. */
  ids(): string[];
  /** Distinct vehicles actually drawn in the map's current view. */
  renderedVehicles(): number;
  /** Road features drawn in the map's current view. */
  renderedRoads(): number;
}

declare global {
  interface Window {
    __headway?: HeadwayProbe;
  }
}

export function installProbe(probe: HeadwayProbe): HeadwayProbe {
  window.__headway = probe;
  return probe;
}

export function removeProbe(): void {
  delete window.__headway;
}

/** `window.__headwayRide`: what the passenger page shows, for end-to-end tests. */
export interface RideProbe {
  /** The map has loaded and the road network is drawn. */
  mapLoaded: boolean;
  /** The ride on screen and its status, as last polled. */
  rideId: string | null;
  status: string | null;
  /** Ride polls answered since the page opened. */
  polls: number;
  /** Where a point is drawn, in page pixels. */
  pagePoint(lon: number, lat: number): { x: number; y: number } | null;
  /** Stops drawn inside the map's visible area, with their page pixels. */
  visibleStops(): { id: string; name: string; lat: number; lon: number; x: number; y: number }[];
  /** Shuttles drawn in the map's current view. */
  renderedShuttles(): number;
  /** The map is panning, zooming or fitting: page points are not settled yet. */
  moving(): boolean;
}

declare global {
  interface Window {
    __headwayRide?: RideProbe;
  }
}

export function installRideProbe(probe: RideProbe): RideProbe {
  window.__headwayRide = probe;
  return probe;
}

export function removeRideProbe(): void {
  delete window.__headwayRide;
}
