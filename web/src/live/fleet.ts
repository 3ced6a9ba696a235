import type { FleetAlert, LiveFrame, Vehicle, VehicleStatus } from "../api/types";
import { VEHICLE_STATUSES } from "../api/types";

export type StatusCounts = Record<VehicleStatus, number> & { total: number };

export type VehicleFeature = GeoJSON.Feature<GeoJSON.Point, VehicleFeatureProps>;

export interface VehicleFeatureProps {
  id: string;
  status: VehicleStatus;
  heading: number;
  battery: number;
  alerting: boolean;
}

function toFeature(v: Vehicle): VehicleFeature {
  return {
    type: "Feature",
    geometry: { type: "Point", coordinates: [v.lon, v.lat] },
    properties: {
      id: v.id,
      status: v.status,
      heading: v.heading_deg,
      battery: v.battery_pct,
      alerting: v.alerts.length > 0,
    },
  };
}

/**
 * The fleet as the live feed last described it. Frames are folded in as they arrive;
 * the map reads one FeatureCollection per animation frame, so a burst of frames costs
 * one setData, and only vehicles that changed get a new feature object.
 */
export class FleetState {
  readonly vehicles = new Map<string, Vehicle>();
  private readonly features = new Map<string, VehicleFeature>();
  alerts: FleetAlert[] = [];
  lastTs = 0;
  frames = 0;
  /** Vehicles changed since the last `collect()`. */
  readonly changed = new Set<string>();
  private dirty = false;

  apply(frame: LiveFrame): void {
    if (frame.type === "snapshot") {
      this.vehicles.clear();
      this.features.clear();
    }
    for (const v of frame.vehicles) {
      this.vehicles.set(v.id, v);
      this.features.set(v.id, toFeature(v));
      this.changed.add(v.id);
    }
    this.alerts = [...frame.alerts].sort((a, b) => b.raised_at - a.raised_at);
    this.lastTs = frame.ts;
    this.frames += 1;
    this.dirty = true;
  }

  /** True once per batch of applied frames. */
  takeDirty(): boolean {
    const d = this.dirty;
    this.dirty = false;
    return d;
  }

  collection(): GeoJSON.FeatureCollection<GeoJSON.Point, VehicleFeatureProps> {
    return { type: "FeatureCollection", features: Array.from(this.features.values()) };
  }

  counts(): StatusCounts {
    const c = { total: 0 } as StatusCounts;
    for (const s of VEHICLE_STATUSES) c[s] = 0;
    for (const v of this.vehicles.values()) {
      c[v.status] = (c[v.status] ?? 0) + 1;
      c.total += 1;
    }
    return c;
  }
}
