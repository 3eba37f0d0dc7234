/** Web Mercator (EPSG:3857) in pixels of 256-pixel tiles, as XYZ tile servers cut them. */
export const TILE = 256;

export function lonToX(lon: number): number {
  return ((lon + 180) / 360) * TILE;
}

export function latToY(lat: number): number {
  const s = Math.sin((lat * Math.PI) / 180);
  return (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * TILE;
}

export function xToLon(x: number): number {
  return (x / TILE) * 360 - 180;
}

export function yToLat(y: number): number {
  const n = Math.PI - (2 * Math.PI * y) / TILE;
  return (180 / Math.PI) * Math.atan(0.5 * (Math.exp(n) - Math.exp(-n)));
}

/** The camera: the world point at the canvas centre (zoom-0 pixels) and a continuous zoom. */
export interface View {
  cx: number;
  cy: number;
  zoom: number;
}

/** The view that fits the points' box into width × height with a margin. */
export function fit(
  points: Array<{ lat: number; lon: number }>,
  width: number,
  height: number,
  margin = 40,
): View {
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (const p of points) {
    const x = lonToX(p.lon);
    const y = latToY(p.lat);
    x0 = Math.min(x0, x);
    x1 = Math.max(x1, x);
    y0 = Math.min(y0, y);
    y1 = Math.max(y1, y);
  }
  if (!Number.isFinite(x0)) return { cx: lonToX(105.85), cy: latToY(21.03), zoom: 10 };
  const scale = Math.min(
    (width - 2 * margin) / Math.max(x1 - x0, 1e-6),
    (height - 2 * margin) / Math.max(y1 - y0, 1e-6),
  );
  return { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, zoom: Math.max(2, Math.min(18, Math.log2(scale))) };
}
