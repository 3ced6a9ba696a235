import type { LatLon, RideRequest } from "../api/types";
import type { End } from "../map/ride-map";
import type { NearStop } from "./stops";

/** How far the app looks for stops around a chosen point; the service's own walking limit. */
export const WALK_RADIUS_M = 600;

/** Choices of "when": minutes from now. */
export const LEAVE_OPTIONS = [0, 15, 30] as const;

/** One end of the trip being planned: a tapped point, or a stop chosen from the list. */
export interface PlanEnd {
  at: LatLon;
  stopId: string | null;
}

export interface Plan {
  pickup: PlanEnd | null;
  dropoff: PlanEnd | null;
  /** The end the next tap on the map sets. */
  active: End;
  /** The end whose nearby stops are listed: the one last set or chosen. */
  focus: End | null;
  seats: number;
  leaveInMin: number;
}

export function emptyPlan(): Plan {
  return { pickup: null, dropoff: null, active: "pickup", focus: null, seats: 1, leaveInMin: 0 };
}

export type Nearby = Record<End, NearStop[]>;

export function rideRequest(plan: Plan, nowMs = Date.now()): RideRequest | null {
  if (!plan.pickup || !plan.dropoff) return null;
  const body: RideRequest = {
    origin: plan.pickup.at,
    destination: plan.dropoff.at,
    seats: plan.seats,
  };
  if (plan.leaveInMin > 0) {
    body.earliest_pickup = new Date(nowMs + plan.leaveInMin * 60_000).toISOString();
  }
  return body;
}
