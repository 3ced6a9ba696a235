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
