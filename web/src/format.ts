/** How the live page words numbers and times. */

export function ago(unixSeconds: number, nowSeconds: number): string {
  const s = Math.max(0, Math.round(nowSeconds - unixSeconds));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  return `${Math.floor(s / 3600)}h ago`;
}

export function kmh(mps: number): string {
  return `${(mps * 3.6).toFixed(0)} km/h`;
}

export function pct(p: number): string {
  return `${p.toFixed(0)}%`;
}

export function clock(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toLocaleTimeString([], { hour12: false });
}

/** Any other field the server sends, readable without knowing it in advance. */
export function generic(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(2);
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "string") return value || "—";
  if (Array.isArray(value)) return value.length ? value.map(generic).join(", ") : "—";
  return JSON.stringify(value);
}

/** Wire fields that hold unix-second timestamps. */
export function isTimestampKey(key: string): boolean {
  return key === "ts" || key.endsWith("_at") || key.endsWith("_ts");
}

const LABELS: Record<string, string> = { ts: "Vehicle clock", map_id: "Map", order_id: "Order" };

export function label(key: string): string {
  if (LABELS[key]) return LABELS[key];
  const s = key.replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}
