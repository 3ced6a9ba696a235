import { MAP_COLOR } from "./palette";

/**
 * Depot and charger markers drawn on a canvas at start-up: the style needs no sprite
 * sheet, so nothing is fetched from outside and the map works offline.
 */
export interface Icon {
  name: string;
  data: ImageData;
  pixelRatio: number;
}

const SIZE = 22;

function canvas(ratio: number): [CanvasRenderingContext2D, number] {
  const px = Math.round(SIZE * ratio);
  const c = document.createElement("canvas");
  c.width = c.height = px;
  const ctx = c.getContext("2d");
  if (!ctx) throw new Error("2D canvas is not available");
  ctx.scale(ratio, ratio);
  return [ctx, px];
}

function roundedRect(ctx: CanvasRenderingContext2D, x: number, y: number, w: number, h: number, r: number): void {
  ctx.beginPath();
  ctx.moveTo(x + r, y);
  ctx.arcTo(x + w, y, x + w, y + h, r);
  ctx.arcTo(x + w, y + h, x, y + h, r);
  ctx.arcTo(x, y + h, x, y, r);
  ctx.arcTo(x, y, x + w, y, r);
  ctx.closePath();
}

/** A garage: rounded square with a roof line and a door. */
function depot(ratio: number): Icon {
  const [ctx, px] = canvas(ratio);
  roundedRect(ctx, 2, 2, SIZE - 4, SIZE - 4, 4);
  ctx.fillStyle = MAP_COLOR.depot;
  ctx.fill();
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = MAP_COLOR.roadCasing;
  ctx.stroke();
  ctx.fillStyle = MAP_COLOR.roadCasing;
  ctx.beginPath();
  ctx.moveTo(5.5, 10);
  ctx.lineTo(11, 5.5);
  ctx.lineTo(16.5, 10);
  ctx.lineTo(16.5, 16.5);
  ctx.lineTo(5.5, 16.5);
  ctx.closePath();
  ctx.fill();
  ctx.fillStyle = MAP_COLOR.depot;
  ctx.fillRect(8, 11, 6, 5.5);
  return { name: "depot", data: ctx.getImageData(0, 0, px, px), pixelRatio: ratio };
}

/** A charger: disc with a lightning bolt. */
function charger(ratio: number): Icon {
  const [ctx, px] = canvas(ratio);
  ctx.beginPath();
  ctx.arc(SIZE / 2, SIZE / 2, SIZE / 2 - 2, 0, Math.PI * 2);
  ctx.fillStyle = MAP_COLOR.charger;
  ctx.fill();
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = MAP_COLOR.roadCasing;
  ctx.stroke();
  ctx.beginPath();
  ctx.moveTo(12.5, 4.5);
  ctx.lineTo(6.5, 12);
  ctx.lineTo(10.5, 12);
  ctx.lineTo(9.5, 17.5);
  ctx.lineTo(15.5, 10);
  ctx.lineTo(11.5, 10);
  ctx.closePath();
  ctx.fillStyle = MAP_COLOR.roadCasing;
  ctx.fill();
  return { name: "charger", data: ctx.getImageData(0, 0, px, px), pixelRatio: ratio };
}

export function drawIcons(ratio = Math.max(1, Math.round(window.devicePixelRatio || 1))): Icon[] {
  return [depot(ratio), charger(ratio)];
}
