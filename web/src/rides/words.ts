import type { Ride, RideStatus } from "../api/types";

/** How the passenger app words a ride: statuses, refusals, times and distances. */

export const ACTIVE: readonly RideStatus[] = ["accepted", "assigned", "picked_up"];
export const FINAL: readonly RideStatus[] = [
  "refused",
  "declined",
  "expired",
  "completed",
  "cancelled",
];

export function isActive(r: Ride): boolean {
  return ACTIVE.includes(r.status);
}

export function isFinal(r: Ride): boolean {
  return FINAL.includes(r.status);
}

/** A booked ride can be cancelled until the passenger is on board. */
export function cancellable(r: Ride): boolean {
  return r.status === "accepted" || r.status === "assigned";
}

export const STATUS_WORDS: Record<RideStatus, string> = {
  offered: "Offer",
  refused: "Not available",
  declined: "Declined",
  expired: "Offer expired",
  accepted: "Booked",
  assigned: "Shuttle on its way",
  picked_up: "On board",
  completed: "Arrived",
  cancelled: "Cancelled",
};

/** The tone of a status pill: the colour follows how the ride is going. */
export function statusTone(s: RideStatus): "go" | "ok" | "bad" | "quiet" {
  if (s === "completed") return "ok";
  if (s === "refused" || s === "expired") return "bad";
  if (s === "declined" || s === "cancelled") return "quiet";
  return "go";
}

const REFUSAL_HEADLINE: Record<string, string> = {
  outside_service_area: "That place is outside the area the shuttles serve.",
  unroutable: "The shuttles cannot make that trip.",
  capacity: "No shuttle has that many free seats.",
  no_vehicle_in_range: "No shuttle can reach you in time right now.",
  no_feasible_insertion: "All shuttles near you are full or already committed.",
  too_late: "That pickup time has already passed.",
};

const REFUSAL_ADVICE: Record<string, string> = {
  outside_service_area: "Choose a place closer to a stop (the dots on the map).",
  unroutable: "Choose other places, or walk if they are this close.",
  capacity: "Ask for fewer seats, or split the group into smaller rides.",
  no_vehicle_in_range: "Try again in a few minutes.",
  no_feasible_insertion: "Try again in a few minutes, or for a later pickup.",
  too_late: "Ask for a pickup from now.",
};

export function refusalHeadline(r: Ride): string {
  return REFUSAL_HEADLINE[r.reason ?? ""] ?? "No ride could be offered.";
}

/** Reasons worth asking again for unchanged: they depend on how busy the fleet is now. */
export function refusalPasses(r: Ride): boolean {
  return r.reason === "no_vehicle_in_range" || r.reason === "no_feasible_insertion";
}

/**
 * The server's explanation, when it says more than the headline: which end is outside
 * the area, which stop serves both ends. Generic engine messages would only repeat it.
 */
export function refusalDetail(r: Ride): string {
  const specific = r.reason === "outside_service_area" || r.reason === "unroutable";
  return specific || !(r.reason && r.reason in REFUSAL_HEADLINE) ? sentence(r.message) : "";
}

export function refusalAdvice(r: Ride): string {
  return REFUSAL_ADVICE[r.reason ?? ""] ?? "Try again in a few minutes.";
}

/** The server's own explanation, as a sentence. */
export function sentence(text: string | null | undefined): string {
  if (!text) return "";
  const t = text.trim();
  const s = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

export function seconds(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t / 1000 : null;
}

/** "08:42", in the passenger's own time zone. */
export function hhmm(iso: string | null | undefined): string {
  const t = seconds(iso);
  if (t === null) return "—";
  return new Date(t * 1000).toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
}

export function dayAndTime(iso: string): string {
  const d = new Date(iso);
  const today = new Date();
  const time = d.toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
  if (d.toDateString() === today.toDateString()) return `Today ${time}`;
  return `${d.toLocaleDateString([], { day: "numeric", month: "short" })} ${time}`;
}

/** "now", "40 s", "3 min", "1 h 05 min". */
export function duration(s: number): string {
  const v = Math.max(0, Math.round(s));
  if (v < 5) return "now";
  if (v < 60) return `${v} s`;
  if (v < 3600) return `${Math.round(v / 60)} min`;
  const h = Math.floor(v / 3600);
  return `${h} h ${String(Math.round((v % 3600) / 60)).padStart(2, "0")} min`;
}

/** A countdown's "0:09". */
export function countdown(s: number): string {
  const v = Math.max(0, Math.ceil(s));
  return `${Math.floor(v / 60)}:${String(v % 60).padStart(2, "0")}`;
}

/** The walk between the passenger's own point and the stop, in words. */
export function walk(m: number, end: "pickup" | "dropoff"): string {
  if (m < 15) return end === "pickup" ? "Right where you asked" : "Right at your destination";
  const d = m < 1000 ? `${Math.round(m / 10) * 10} m` : `${(m / 1000).toFixed(1)} km`;
  return end === "pickup" ? `${d} walk from your pin` : `${d} walk to your destination`;
}

export function metres(m: number): string {
  return m < 1000 ? `${Math.round(m)} m` : `${(m / 1000).toFixed(1)} km`;
}

/** "8:16 AM–8:18 AM", or just "8:16 AM" when both ends fall in the same minute. */
export function span(start: string | null | undefined, end: string | null | undefined): string {
  const a = hhmm(start);
  const b = hhmm(end);
  return a === b ? a : `${a}–${b}`;
}
