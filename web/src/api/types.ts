/** Wire shapes of the Headway API (/api/v1), as the live map reads them. */

export type VehicleStatus = "driving" | "idle" | "charging" | "offline" | "fault";

export const VEHICLE_STATUSES: readonly VehicleStatus[] = [
  "driving",
  "idle",
  "charging",
  "offline",
  "fault",
];

export interface Vehicle {
  id: string;
  lat: number;
  lon: number;
  x: number;
  y: number;
  heading_deg: number;
  speed_mps: number;
  battery_pct: number;
  status: VehicleStatus;
  occupancy: number;
  capacity: number;
  segment: number | null;
  last_seen: number;
  alerts: string[];
}

/** `GET /vehicles/{id}`: the live shape plus whatever else the server knows. */
export type VehicleDetail = Vehicle & Record<string, unknown>;

export type AlertKind = "low_battery" | "offline" | "estop" | "fault";
export type Severity = "warning" | "critical";

export interface FleetAlert {
  id: string;
  vehicle_id: string;
  kind: AlertKind | string;
  severity: Severity;
  message: string;
  raised_at: number;
}

export interface SnapshotFrame {
  type: "snapshot";
  ts: number;
  vehicles: Vehicle[];
  alerts: FleetAlert[];
}

export interface TickFrame {
  type: "tick";
  ts: number;
  vehicles: Vehicle[];
  alerts: FleetAlert[];
}

export type LiveFrame = SnapshotFrame | TickFrame;

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  role: string;
}

export interface TrackPoint {
  ts: number;
  lat: number;
  lon: number;
  speed_mps: number;
  battery_pct: number;
}

export interface Track {
  vehicle_id: string;
  points: TrackPoint[];
}

export type RoadProps = {
  kind: "road";
  id: string;
  class: string;
  name: string;
  speed_kmh: number;
  oneway: boolean;
};
export type StopProps = { kind: "stop"; id: string; name: string };
export type DepotProps = { kind: "depot"; id: string; name: string; capacity: number };
export type ChargerProps = {
  kind: "charger";
  id: string;
  name: string;
  plugs: number;
  power_kw: number;
};

export type NetworkProps = RoadProps | StopProps | DepotProps | ChargerProps;

export interface NetworkCollection
  extends GeoJSON.FeatureCollection<GeoJSON.Geometry, NetworkProps> {
  bbox: [number, number, number, number];
}

/** Commands to a vehicle (`/vehicles/{id}/commands`, `/commands/{id}`). */
export type CommandKind =
  | "drive"
  | "update"
  | "hold"
  | "pause"
  | "resume"
  | "cancel"
  | "return_to_depot"
  | "charge";

export type CommandStatus =
  | "accepted"
  | "sent"
  | "acknowledged"
  | "rejected"
  | "running"
  | "done"
  | "failed"
  | "expired"
  | "cancelled";

export interface CommandStep {
  status: CommandStatus;
  at: number;
  note: string;
}

export interface CommandRecord {
  id: string;
  vehicle_id: string;
  kind: CommandKind;
  status: CommandStatus;
  final: boolean;
  created_at: number;
  updated_at: number;
  expires_at: number;
  attempts: number;
  reason: string;
  params: Record<string, unknown>;
  history: CommandStep[];
}

export interface CommandPage {
  items: CommandRecord[];
  next_cursor: string | null;
}

/** The body of `POST /vehicles/{id}/commands`, for the kinds the map's controls send. */
export type CommandRequest =
  | { kind: "hold"; duration_s: number }
  | { kind: "pause" }
  | { kind: "resume" }
  | { kind: "cancel" }
  | { kind: "return_to_depot" }
  | { kind: "charge"; target_pct?: number };

/** On-demand rides (`/rides`), as the passenger app reads them. Times are ISO 8601. */
export type RideStatus =
  | "offered"
  | "refused"
  | "declined"
  | "expired"
  | "accepted"
  | "assigned"
  | "picked_up"
  | "completed"
  | "cancelled";

export type RefusalReason =
  | "outside_service_area"
  | "unroutable"
  | "capacity"
  | "no_vehicle_in_range"
  | "no_feasible_insertion"
  | "too_late";

export interface LatLon {
  lat: number;
  lon: number;
}

/** One end of a ride: the point asked for, and the stop the service chose to meet at. */
export interface RidePlace extends LatLon {
  /** Empty when no stop is within walking distance (the ride was refused). */
  stop_id: string;
  stop_name: string;
  walk_m: number;
}

export interface RideVehicle {
  id: string;
  lat: number | null;
  lon: number | null;
  heading_deg: number | null;
  /** Seconds until the vehicle reaches this ride's next stop. */
  eta_s: number | null;
}

export interface Ride {
  id: string;
  status: RideStatus;
  seats: number;
  pickup: RidePlace;
  dropoff: RidePlace;
  earliest_pickup: string;
  pickup_window: { start: string; end: string } | null;
  pickup_eta: string | null;
  dropoff_eta: string | null;
  latest_dropoff: string | null;
  offer_expires_at: string | null;
  picked_up_at: string | null;
  completed_at: string | null;
  vehicle: RideVehicle | null;
  reason: RefusalReason | string | null;
  message: string | null;
  created_at: string;
  updated_at: string;
}

export interface RidePage {
  items: Ride[];
  next_before: string | null;
}

export interface RideRequest {
  origin: LatLon;
  destination: LatLon;
  seats: number;
  earliest_pickup?: string;
}
