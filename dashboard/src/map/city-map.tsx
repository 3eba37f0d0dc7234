import { useEffect, useRef, useState } from 'preact/hooks';
import type { City } from '../live.ts';
import { navigate } from '../router.ts';
import { fit, latToY, lonToX, TILE, type View } from './projection.ts';
import { markerRank, RANK_COLOUR, RANK_KEYS, type RankKey } from './ranks.ts';
import { type TileCache, tileCache } from './tiles.ts';

/** Below this zoom, devices closer than a cell on screen are drawn as one cluster. */
export const CLUSTER_UNTIL_ZOOM = 15;
const CELL_PX = 42;

interface Hit {
  x: number;
  y: number;
  r: number;
  /** A device's index, or -1 for a cluster. */
  device: number;
  count: number;
  wx: number;
  wy: number;
}

export interface CityMapProps {
  city: City;
  /** Bumped when statuses or alarms change: the map redraws on the next frame. */
  version: number;
  /** A district index: only its devices are drawn, and the view moves to it. */
  district: number | null;
  onDistrict(index: number | null): void;
  label: string;
  describe(device: number): string;
}

/**
 * The city on one canvas: 10,000 devices are 10,000 arcs on a canvas, not 10,000 DOM nodes. Each
 * draw projects the devices (cached per city), buckets them into screen cells when zoomed out, and
 * draws a marker per cell. Status shows by shape and a legend as well as colour.
 */
export function CityMap(props: CityMapProps) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const state = useRef({
    view: null as View | null,
    world: null as { city: City; x: Float64Array; y: Float64Array } | null,
    hits: [] as Hit[],
    frame: 0,
    props,
    tiles: null as TileCache | null,
    drawn: false,
  });
  state.current.props = props;
  const [tip, setTip] = useState<{ x: number; y: number; text: string } | null>(null);

  const request = () => {
    const s = state.current;
    if (s.frame) return;
    s.frame = requestAnimationFrame(() => {
      s.frame = 0;
      draw();
    });
  };

  const draw = () => {
    const el = canvas.current;
    const s = state.current;
    if (!el) return;
    const { city, district } = s.props;
    const w = el.clientWidth;
    const h = el.clientHeight;
    if (!w || !h) return;
    const dpr = window.devicePixelRatio || 1;
    if (el.width !== Math.round(w * dpr) || el.height !== Math.round(h * dpr)) {
      el.width = Math.round(w * dpr);
      el.height = Math.round(h * dpr);
    }
    const ctx = el.getContext('2d', { alpha: false })!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    if (!s.world || s.world.city !== city) s.world = project(city);
    if (!s.view) s.view = fit(city.districts, w, h);
    const { view } = s;
    const scale = 2 ** view.zoom;
    const sx = (x: number) => (x - view.cx) * scale + w / 2;
    const sy = (y: number) => (y - view.cy) * scale + h / 2;

    ctx.fillStyle = '#0b131c';
    ctx.fillRect(0, 0, w, h);
    if (city.tileUrl) {
      s.tiles ??= tileCache(city.tileUrl, request);
      s.tiles.draw(ctx, view, w, h);
    }
    drawDistricts(ctx, city, district, sx, sy, view.zoom, 'areas');

    // Devices into cells (or one each when zoomed in), keeping the most urgent rank per cell.
    const cluster = view.zoom < CLUSTER_UNTIL_ZOOM;
    const cells = new Map<number, Hit & { rank: number; alarms: number }>();
    const hits: Hit[] = [];
    const { x: wx, y: wy } = s.world;
    let drawn = 0;
    for (let i = 0; i < city.ids.length; i++) {
      if (district !== null && city.district[i] !== district) continue;
      const x = sx(wx[i]);
      const y = sy(wy[i]);
      if (x < -CELL_PX || y < -CELL_PX || x > w + CELL_PX || y > h + CELL_PX) {
        drawn++;
        continue;
      }
      drawn++;
      const rank = markerRank(city.status[i], city.alarm[i]);
      if (!cluster) {
        drawMarker(ctx, x, y, rank);
        hits.push({ x, y, r: 7, device: i, count: 1, wx: wx[i], wy: wy[i] });
        continue;
      }
      const key = Math.floor(x / CELL_PX) * 65536 + Math.floor(y / CELL_PX);
      const cell = cells.get(key);
      if (!cell) {
        cells.set(key, {
          x,
          y,
          r: 0,
          device: i,
          count: 1,
          wx: wx[i],
          wy: wy[i],
          rank,
          alarms: city.alarm[i] >= 0 ? 1 : 0,
        });
      } else {
        cell.count++;
        cell.x += x;
        cell.y += y;
        cell.wx += wx[i];
        cell.wy += wy[i];
        if (city.alarm[i] >= 0) cell.alarms++;
        if (rank < cell.rank) cell.rank = rank;
      }
    }
    let clusters = 0;
    for (const c of cells.values()) {
      if (c.count === 1) {
        drawMarker(ctx, c.x, c.y, c.rank);
        hits.push({ ...c, r: 7 });
        continue;
      }
      clusters++;
      const hit = {
        x: c.x / c.count,
        y: c.y / c.count,
        r: 0,
        device: -1,
        count: c.count,
        wx: c.wx / c.count,
        wy: c.wy / c.count,
      };
      hit.r = drawCluster(ctx, hit.x, hit.y, c.count, c.rank, c.alarms);
      hits.push(hit);
    }
    // Names above the markers, so that a dense centre stays readable.
    drawDistricts(ctx, city, district, sx, sy, view.zoom, 'labels');
    s.hits = hits;
    el.dataset.devices = String(drawn);
    el.dataset.clusters = String(clusters);
    el.dataset.zoom = view.zoom.toFixed(2);
    if (!s.drawn && city.ids.length) {
      s.drawn = true;
      performance.mark('citygate:map-drawn');
    }
  };

  // Redraw on new data; move to the chosen district (or back to the whole city).
  useEffect(request, [props.version, props.city]);
  useEffect(() => {
    const s = state.current;
    const el = canvas.current;
    if (!el || !el.clientWidth) return;
    const { city, district } = props;
    const points = district === null ? city.districts : inDistrict(city, district);
    s.view = fit(points.length ? points : city.districts, el.clientWidth, el.clientHeight);
    request();
  }, [props.district, props.city]);
  useEffect(() => {
    const el = canvas.current!;
    const ro = new ResizeObserver(request);
    ro.observe(el);
    return () => {
      ro.disconnect();
      cancelAnimationFrame(state.current.frame);
    };
  }, []);

  const zoomAt = (factor: number, px: number, py: number) => {
    const s = state.current;
    const el = canvas.current!;
    if (!s.view) return;
    const v = s.view;
    const scale = 2 ** v.zoom;
    const wx = v.cx + (px - el.clientWidth / 2) / scale;
    const wy = v.cy + (py - el.clientHeight / 2) / scale;
    const zoom = Math.max(3, Math.min(19, v.zoom + factor));
    const next = 2 ** zoom;
    s.view = { zoom, cx: wx - (px - el.clientWidth / 2) / next, cy: wy - (py - el.clientHeight / 2) / next };
    request();
  };
  const pan = (dx: number, dy: number) => {
    const s = state.current;
    if (!s.view) return;
    const scale = 2 ** s.view.zoom;
    s.view = { ...s.view, cx: s.view.cx - dx / scale, cy: s.view.cy - dy / scale };
    request();
  };
  const hitAt = (px: number, py: number): Hit | null => {
    let best: Hit | null = null;
    let bestD = Infinity;
    for (const h of state.current.hits) {
      const d = Math.hypot(h.x - px, h.y - py);
      if (d <= h.r + 3 && d < bestD) {
        best = h;
        bestD = d;
      }
    }
    return best;
  };
  const districtAt = (px: number, py: number): number | null => {
    const s = state.current;
    const el = canvas.current!;
    if (!s.view) return null;
    const scale = 2 ** s.view.zoom;
    let best: number | null = null;
    let bestD = 24;
    s.props.city.districts.forEach((d, i) => {
      const x = (lonToX(d.lon) - s.view!.cx) * scale + el.clientWidth / 2;
      const y = (latToY(d.lat) - s.view!.cy) * scale + el.clientHeight / 2;
      const dist = Math.hypot(x - px, y + 10 - py);
      if (dist < bestD) {
        best = i;
        bestD = dist;
      }
    });
    return best;
  };

  const drag = useRef<{ x: number; y: number; moved: boolean } | null>(null);
  const local = (e: MouseEvent) => {
    const r = canvas.current!.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top] as const;
  };
  return (
    <div class="map-wrap">
      <canvas
        ref={canvas}
        class="city-map"
        data-testid="city-map"
        tabIndex={0}
        role="img"
        aria-label={props.label}
        onWheel={(e) => {
          e.preventDefault();
          const [x, y] = local(e);
          zoomAt(-e.deltaY * 0.0025, x, y);
        }}
        onPointerDown={(e) => {
          drag.current = { x: e.clientX, y: e.clientY, moved: false };
          (e.target as HTMLElement).setPointerCapture(e.pointerId);
        }}
        onPointerMove={(e) => {
          const d = drag.current;
          if (d) {
            if (Math.abs(e.clientX - d.x) + Math.abs(e.clientY - d.y) > 3) d.moved = true;
            if (d.moved) pan(e.clientX - d.x, e.clientY - d.y);
            d.x = e.clientX;
            d.y = e.clientY;
            return;
          }
          const [x, y] = local(e);
          const hit = hitAt(x, y);
          setTip(hit ? { x, y, text: hit.device >= 0 ? props.describe(hit.device) : `${hit.count}` } : null);
        }}
        onPointerUp={(e) => {
          const d = drag.current;
          drag.current = null;
          if (d?.moved) return;
          const [x, y] = local(e);
          const hit = hitAt(x, y);
          if (hit && hit.device >= 0) navigate(`/devices/${encodeURIComponent(props.city.ids[hit.device])}`);
          else if (hit) zoomAt(2, x, y);
          else {
            const district = districtAt(x, y);
            if (district !== null) props.onDistrict(district === props.district ? null : district);
          }
        }}
        onPointerLeave={() => setTip(null)}
        onKeyDown={(e) => {
          const el = canvas.current!;
          const step = 80;
          const keys: Record<string, () => void> = {
            ArrowLeft: () => pan(step, 0),
            ArrowRight: () => pan(-step, 0),
            ArrowUp: () => pan(0, step),
            ArrowDown: () => pan(0, -step),
            '+': () => zoomAt(1, el.clientWidth / 2, el.clientHeight / 2),
            '=': () => zoomAt(1, el.clientWidth / 2, el.clientHeight / 2),
            '-': () => zoomAt(-1, el.clientWidth / 2, el.clientHeight / 2),
            '0': () => {
              state.current.view = fit(props.city.districts, el.clientWidth, el.clientHeight);
              request();
            },
          };
          const act = keys[e.key];
          if (act) {
            e.preventDefault();
            act();
          }
        }}
      />
      {tip && (
        <div class="map-tip" style={{ left: `${tip.x + 12}px`, top: `${tip.y + 12}px` }}>
          {tip.text}
        </div>
      )}
    </div>
  );
}

function project(city: City) {
  const x = new Float64Array(city.ids.length);
  const y = new Float64Array(city.ids.length);
  for (let i = 0; i < city.ids.length; i++) {
    x[i] = lonToX(city.lon[i]);
    y[i] = latToY(city.lat[i]);
  }
  return { city, x, y };
}

function inDistrict(city: City, district: number) {
  const points: Array<{ lat: number; lon: number }> = [];
  for (let i = 0; i < city.ids.length; i++)
    if (city.district[i] === district) points.push({ lat: city.lat[i], lon: city.lon[i] });
  return points;
}

function drawDistricts(
  ctx: CanvasRenderingContext2D,
  city: City,
  selected: number | null,
  sx: (x: number) => number,
  sy: (y: number) => number,
  zoom: number,
  part: 'areas' | 'labels',
) {
  ctx.textAlign = 'center';
  ctx.textBaseline = 'bottom';
  // Labels that would overlap one already drawn are left out (the selected district's first).
  const placed: Array<[number, number, number, number]> = [];
  const order = city.districts
    .map((_, i) => i)
    .sort((a, b) => Number(b === selected) - Number(a === selected));
  for (const i of order) {
    const d = city.districts[i];
    const x = sx(lonToX(d.lon));
    const y = sy(latToY(d.lat));
    const on = i === selected;
    // The district's rough extent: urban districts are 2-3 km across, rural ones 10 km or more.
    const r = (2 ** zoom * TILE * 0.02) / 360;
    if (part === 'areas') {
      ctx.beginPath();
      ctx.arc(x, y, Math.max(r, 6), 0, Math.PI * 2);
      ctx.fillStyle = on ? 'rgba(31,111,235,0.18)' : 'rgba(140,200,255,0.04)';
      ctx.fill();
      ctx.strokeStyle = on ? '#1f6feb' : 'rgba(140,200,255,0.18)';
      ctx.lineWidth = on ? 2 : 1;
      ctx.stroke();
      continue;
    }
    ctx.font = `${on ? 'bold ' : ''}12px system-ui, sans-serif`;
    const w = ctx.measureText(d.name).width + 6;
    const box: [number, number, number, number] = [x - w / 2, y - 24, x + w / 2, y - 8];
    if (placed.some((p) => box[0] < p[2] && box[2] > p[0] && box[1] < p[3] && box[3] > p[1])) continue;
    placed.push(box);
    ctx.lineWidth = 3;
    ctx.strokeStyle = '#0b131c';
    ctx.strokeText(d.name, x, y - 8);
    ctx.fillStyle = on ? '#ffffff' : '#c9d6e3';
    ctx.fillText(d.name, x, y - 8);
  }
}

/** Shapes by rank: a diamond for an alarm, a filled dot online, a ring offline, a cross disabled. */
function drawMarker(ctx: CanvasRenderingContext2D, x: number, y: number, rank: number) {
  const key = RANK_KEYS[rank];
  ctx.fillStyle = RANK_COLOUR[key];
  ctx.strokeStyle = RANK_COLOUR[key];
  ctx.lineWidth = 2;
  ctx.beginPath();
  if (rank <= 3) {
    ctx.moveTo(x, y - 6);
    ctx.lineTo(x + 6, y);
    ctx.lineTo(x, y + 6);
    ctx.lineTo(x - 6, y);
    ctx.closePath();
    ctx.fill();
    ctx.strokeStyle = '#000';
    ctx.lineWidth = 1;
    ctx.stroke();
  } else if (key === 'online') {
    ctx.arc(x, y, 4, 0, Math.PI * 2);
    ctx.fill();
  } else if (key === 'offline') {
    ctx.arc(x, y, 4, 0, Math.PI * 2);
    ctx.stroke();
  } else {
    ctx.moveTo(x - 4, y - 4);
    ctx.lineTo(x + 4, y + 4);
    ctx.moveTo(x + 4, y - 4);
    ctx.lineTo(x - 4, y + 4);
    ctx.stroke();
  }
}

/** A cluster: a disc sized by its count, coloured by its most urgent member, "!" when it has alarms. */
function drawCluster(
  ctx: CanvasRenderingContext2D,
  x: number,
  y: number,
  count: number,
  rank: number,
  alarms: number,
) {
  const r = Math.min(24, 9 + Math.log2(count) * 2.2);
  const key: RankKey = RANK_KEYS[rank];
  ctx.beginPath();
  ctx.arc(x, y, r, 0, Math.PI * 2);
  ctx.fillStyle = `${RANK_COLOUR[key]}cc`;
  ctx.fill();
  ctx.lineWidth = alarms ? 3 : 1.5;
  ctx.strokeStyle = alarms ? '#ffffff' : '#0b131c';
  ctx.stroke();
  ctx.fillStyle = '#0b131c';
  ctx.font = 'bold 11px system-ui, sans-serif';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.fillText(alarms ? `!${count}` : String(count), x, y);
  return r;
}
