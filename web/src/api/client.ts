import type {
  CommandPage,
  CommandRecord,
  CommandRequest,
  NetworkCollection,
  Ride,
  RidePage,
  RideRequest,
  TokenResponse,
  Track,
  VehicleDetail,
} from "./types";

export const API_BASE = "/api/v1";
const TIMEOUT_MS = 15_000;

/** An HTTP error from the API, with the server's own explanation when it gave one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }

  get unauthorized(): boolean {
    return this.status === 401;
  }
}

interface FieldError {
  loc?: (string | number)[];
  msg?: string;
}

/** "password: String should have at least 10 characters", from a validation error. */
function fieldMessage(e: FieldError): string {
  const field = e.loc?.filter((p) => p !== "body").join(".");
  const msg = e.msg ?? JSON.stringify(e);
  return field ? `${field}: ${msg}` : msg;
}

/** Reads FastAPI's `{"detail": ...}` and problem+json's `detail`/`title`/`errors`. */
async function errorMessage(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { detail?: unknown; title?: unknown; errors?: unknown };
    if (Array.isArray(body.errors) && body.errors.length) {
      return (body.errors as FieldError[]).map(fieldMessage).join("; ");
    }
    if (typeof body.detail === "string") return body.detail;
    if (Array.isArray(body.detail)) {
      return body.detail
        .map((d: { msg?: string }) => d.msg ?? JSON.stringify(d))
        .join("; ");
    }
    if (typeof body.title === "string") return body.title;
  } catch {
    // not JSON: fall through to the status line
  }
  return `${res.status} ${res.statusText || "error"}`;
}

async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(API_BASE + path, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (e) {
    const why = e instanceof DOMException && e.name === "TimeoutError" ? "timed out" : "failed";
    throw new ApiError(0, `The request to the server ${why}. Is Headway running?`);
  }
  if (!res.ok) throw new ApiError(res.status, await errorMessage(res));
  return (await res.json()) as T;
}

function authed(token: string): RequestInit {
  return { headers: { Authorization: `Bearer ${token}`, Accept: "application/json" } };
}

/** OAuth2 password flow: form-encoded username and password. */
export function login(username: string, password: string): Promise<TokenResponse> {
  return request<TokenResponse>("/auth/token", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ username, password, grant_type: "password" }),
  });
}

/** Create a passenger account; the answer signs the new passenger in. */
export function signUp(username: string, password: string): Promise<TokenResponse> {
  return request<TokenResponse>("/auth/passengers", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ username, password }),
  });
}

export function fetchNetwork(token: string): Promise<NetworkCollection> {
  return request<NetworkCollection>("/network", authed(token));
}

export function fetchVehicle(token: string, id: string): Promise<VehicleDetail> {
  return request<VehicleDetail>(`/vehicles/${encodeURIComponent(id)}`, authed(token));
}

export function fetchTrack(token: string, id: string): Promise<Track> {
  return request<Track>(`/vehicles/${encodeURIComponent(id)}/track`, authed(token));
}

/**
 * Issue a command. The Idempotency-Key makes the one retry after a lost answer safe:
 * the server returns the command the first attempt created instead of a second one.
 */
export async function issueCommand(
  token: string,
  vehicleId: string,
  body: CommandRequest,
): Promise<CommandRecord> {
  const key = newKey();
  const init: RequestInit = {
    method: "POST",
    headers: {
      Authorization: `Bearer ${token}`,
      Accept: "application/json",
      "Content-Type": "application/json",
      "Idempotency-Key": key,
    },
    body: JSON.stringify(body),
  };
  const path = `/vehicles/${encodeURIComponent(vehicleId)}/commands`;
  try {
    return await request<CommandRecord>(path, init);
  } catch (e) {
    if (e instanceof ApiError && e.status === 0) return request<CommandRecord>(path, init);
    throw e;
  }
}

/** A random key; crypto.randomUUID needs a secure context, which plain http on a LAN is not. */
function newKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function fetchCommand(token: string, id: string): Promise<CommandRecord> {
  return request<CommandRecord>(`/commands/${encodeURIComponent(id)}`, authed(token));
}

export function listCommands(token: string, vehicleId: string, limit = 6): Promise<CommandPage> {
  const query = new URLSearchParams({ vehicle_id: vehicleId, limit: String(limit) });
  return request<CommandPage>(`/commands?${query}`, authed(token));
}

export function liveUrl(token: string): string {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}${API_BASE}/live?token=${encodeURIComponent(token)}`;
}

function postJson(token: string, body: unknown): RequestInit {
  return {
    method: "POST",
    headers: {
      Authorization: `Bearer ${token}`,
      Accept: "application/json",
      "Content-Type": "application/json",
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  };
}

/** Ask for a ride: the answer is an offer (status "offered") or a refusal with its reason. */
export function requestRide(token: string, body: RideRequest): Promise<Ride> {
  return request<Ride>("/rides", postJson(token, body));
}

export type RideAction = "accept" | "decline" | "cancel";

/** 409 when the ride's status no longer allows the action (e.g. the offer expired). */
export function rideAction(token: string, id: string, action: RideAction): Promise<Ride> {
  return request<Ride>(`/rides/${encodeURIComponent(id)}/${action}`, postJson(token, undefined));
}

export function fetchRide(token: string, id: string): Promise<Ride> {
  return request<Ride>(`/rides/${encodeURIComponent(id)}`, authed(token));
}

/** The caller's rides, newest first; pass the page's `next_before` for older ones. */
export function listRides(token: string, before = "", limit = 20): Promise<RidePage> {
  const query = new URLSearchParams({ limit: String(limit) });
  if (before) query.set("before", before);
  return request<RidePage>(`/rides?${query}`, authed(token));
}
