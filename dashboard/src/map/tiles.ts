import { TILE, type View } from './projection.ts';

export interface TileCache {
  draw(ctx: CanvasRenderingContext2D, view: View, w: number, h: number): void;
}

const MAX_TILES = 256;

/**
 * Optional raster tiles (MAP_TILE_URL, `{z}/{x}/{y}`), for a centre that has a tile server of its
 * own. A tile not yet loaded leaves the plain background; a loaded one asks for a redraw.
 */
export function tileCache(template: string, redraw: () => void): TileCache {
  const images = new Map<string, HTMLImageElement>();
  const url = (z: number, x: number, y: number) =>
    template.replace('{z}', String(z)).replace('{x}', String(x)).replace('{y}', String(y));
  return {
    draw(ctx, view, w, h) {
      const z = Math.max(0, Math.min(19, Math.round(view.zoom)));
      const n = 2 ** z;
      const size = TILE * 2 ** (view.zoom - z);
      const scale = 2 ** view.zoom;
      const left = view.cx - w / 2 / scale;
      const top = view.cy - h / 2 / scale;
      const x0 = Math.floor((left / TILE) * n);
      const y0 = Math.floor((top / TILE) * n);
      const x1 = Math.floor(((left + w / scale) / TILE) * n);
      const y1 = Math.floor(((top + h / scale) / TILE) * n);
      ctx.globalAlpha = 0.55;
      for (let x = x0; x <= x1; x++)
        for (let y = y0; y <= y1; y++) {
          if (x < 0 || y < 0 || x >= n || y >= n) continue;
          const key = `${z}/${x}/${y}`;
          let img = images.get(key);
          if (!img) {
            if (images.size >= MAX_TILES) images.delete(images.keys().next().value!);
            img = new Image();
            img.onload = redraw;
            img.src = url(z, x, y);
            images.set(key, img);
          }
          if (img.complete && img.naturalWidth)
            ctx.drawImage(
              img,
              (x / n) * TILE * scale - left * scale,
              (y / n) * TILE * scale - top * scale,
              size,
              size,
            );
        }
      ctx.globalAlpha = 1;
    },
  };
}
