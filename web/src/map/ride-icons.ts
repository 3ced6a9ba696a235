import { MAP_COLOR } from "./palette";
import type { Icon } from "./icons";

/** Colours of the passenger map: one per end of the trip, one for the shuttle. */
export const RIDE_COLOR = {
  pickup: "#22c55e",
  dropoff: "#f472b6",
  shuttle: "#38bdf8",
  walk: "#e2e8f0",
  nearby: "#facc15",
} as const;

function canvas(w: number, h: number, ratio: number): CanvasRenderingContext2D {
  const c = document.createElement("canvas");
  c.width = Math.round(w * ratio);
  c.height = Math.round(h * ratio);
  const ctx = c.getContext("2d");
  if (!ctx) throw new Error("2D canvas is not available");
  ctx.scale(ratio, ratio);
  return ctx;
}

function image(name: string, ctx: CanvasRenderingContext2D, ratio: number): Icon {
  const { width, height } = ctx.canvas;
  return { name, data: ctx.getImageData(0, 0, width, height), pixelRatio: ratio };
}

/** A map pin with a letter: its tip is the chosen point (anchor "bottom"). */
function pin(name: string, color: string, letter: string, ratio: number): Icon {
  const w = 28;
  const h = 38;
  const ctx = canvas(w, h, ratio);
  const cx = w / 2;
  const r = 12;
  const cy = r + 1.5;
  ctx.beginPath();
  ctx.moveTo(cx, h - 1);
  ctx.bezierCurveTo(cx - 4, h - 10, cx - r, cy + 8, cx - r, cy);
  ctx.arc(cx, cy, r, Math.PI, 0);
  ctx.bezierCurveTo(cx + r, cy + 8, cx + 4, h - 10, cx, h - 1);
  ctx.closePath();
  ctx.fillStyle = color;
  ctx.fill();
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = MAP_COLOR.roadCasing;
  ctx.stroke();
  ctx.fillStyle = MAP_COLOR.roadCasing;
  ctx.font = `700 13px system-ui, "DejaVu Sans", sans-serif`;
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  ctx.fillText(letter, cx, cy + 0.5);
  return image(name, ctx, ratio);
}

/** The shuttle: a disc with an arrow pointing up (north), rotated by the heading. */
function shuttle(ratio: number): Icon {
  const s = 30;
  const ctx = canvas(s, s, ratio);
  const c = s / 2;
  ctx.beginPath();
  ctx.arc(c, c, c - 2, 0, Math.PI * 2);
  ctx.fillStyle = RIDE_COLOR.shuttle;
  ctx.fill();
  ctx.lineWidth = 2;
  ctx.strokeStyle = "#ffffff";
  ctx.stroke();
  ctx.beginPath();
  ctx.moveTo(c, 6);
  ctx.lineTo(c + 7, c + 7);
  ctx.lineTo(c, c + 3);
  ctx.lineTo(c - 7, c + 7);
  ctx.closePath();
  ctx.fillStyle = MAP_COLOR.roadCasing;
  ctx.fill();
  return image("shuttle", ctx, ratio);
}

export function drawRideIcons(ratio = Math.max(1, Math.round(window.devicePixelRatio || 1))): Icon[] {
  return [
    pin("pin-pickup", RIDE_COLOR.pickup, "A", ratio),
    pin("pin-dropoff", RIDE_COLOR.dropoff, "B", ratio),
    shuttle(ratio),
  ];
}
