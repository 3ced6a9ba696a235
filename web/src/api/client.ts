import type {
  CommandPage,
  CommandRecord,
  CommandRequest,
  NetworkCollection,
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

/** Reads FastAPI's `{"detail": ...}` and problem+json's `detail`/`title`. */
async function errorMessage(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { detail?: unknown; title?: unknown };
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
