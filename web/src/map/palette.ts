import type { VehicleStatus } from "../api/types";

/** One palette for the map layers and the header legend, so the two always agree. */
export const STATUS_COLOR: Record<VehicleStatus, string> = {
  driving: "#22c55e",
  idle: "#60a5fa",
  charging: "#c084fc",
  offline: "#94a3b8",
  fault: "#ef4444",
};

export const STATUS_LABEL: Record<VehicleStatus, string> = {
  driving: "Driving",
  idle: "Idle",
  charging: "Charging",
  offline: "Offline",
  fault: "Fault",
};

export const MAP_COLOR = {
  background: "#0d1522",
  roadCasing: "#070c15",
  arterial: "#6d83a6",
  collector: "#4d6180",
  residential: "#34445c",
  minor: "#2b384c",
  stop: "#e2e8f0",
  depot: "#fb923c",
  charger: "#facc15",
  track: "#f8fafc",
  alertHalo: "#f43f5e",
  selected: "#ffffff",
} as const;
