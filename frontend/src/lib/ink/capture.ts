/**
 * Pen strokes from Pointer Events (docs/WEBAPP.md, "Annotating"; the tablet traps of pen input).
 *
 * - Every sample counts: an Apple Pencil reports 240 points a second but `pointermove` fires at
 *   the display's rate, so each move reads `getCoalescedEvents()`.
 * - Palm rejection: while a pen is down, every other pointer is ignored (the hand resting on the
 *   glass); in pen mode touch never draws at all (fingers scroll and zoom). A touch stroke that
 *   was started by the palm just before the pen landed is dropped when the pen comes down.
 * - `pointercancel` does not end a stroke: Safari sends it early when it guesses a gesture. The
 *   stroke stays open; more samples of the same pointer continue it, and it is kept (never
 *   thrown away) on `pointerup`, on the next accepted `pointerdown`, or after a quiet moment.
 * - Pressure: a pen's own; fingers and mice report none, so they get 0.5 (the server's
 *   default) and the outline simulates pressure from speed (`outline.ts`).
 */

export interface PointerSample {
  pointerId: number;
  pointerType: string;
  /** position relative to the page box, CSS px */
  x: number;
  y: number;
  pressure: number;
}

/** What the component hands in: one pointer event (its coalesced samples already read). */
export interface PointerInput extends PointerSample {
  coalesced?: PointerSample[];
}

export type CssPoint = [number, number, number];

export interface CapturedStroke {
  pointerType: string;
  /** [x, y, pressure] in the page's CSS px */
  points: CssPoint[];
}

export interface CaptureOptions {
  /** pen mode: touch never draws */
  penOnly?: () => boolean;
  /** a finished stroke */
  onStroke: (stroke: CapturedStroke) => void;
  /** the stroke in progress changed (draw it) or ended (`null`) */
  onProgress?: (stroke: CapturedStroke | null) => void;
  /** how long a stroke stays open after `pointercancel` without samples (ms) */
  cancelGraceMs?: number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

/** The server keeps pressure in 0..1; devices without it report 0 or 0.5. */
export function pressureOf(sample: PointerSample): number {
  if (sample.pointerType !== 'pen') return 0.5;
  const p = sample.pressure;
  return p > 0 && p <= 1 ? Math.round(p * 1000) / 1000 : 0.5;
}

export class StrokeCapture {
  private stroke: (CapturedStroke & { pointerId: number; cancelled: boolean }) | null = null;
  private timer: unknown = null;
  private readonly opts: Required<Omit<CaptureOptions, 'onProgress'>> &
    Pick<CaptureOptions, 'onProgress'>;

  constructor(options: CaptureOptions) {
    this.opts = {
      penOnly: options.penOnly ?? (() => false),
      onStroke: options.onStroke,
      onProgress: options.onProgress,
      cancelGraceMs: options.cancelGraceMs ?? 500,
      setTimer: options.setTimer ?? ((fn, ms) => setTimeout(fn, ms)),
      clearTimer:
        options.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>)),
    };
  }

  /** The stroke being drawn, if any. */
  get active(): CapturedStroke | null {
    return this.stroke;
  }

  /** A pointer went down; true when it starts a stroke (capture the pointer, prevent default). */
  down(e: PointerInput): boolean {
    const current = this.stroke;
    if (current && !current.cancelled) {
      if (current.pointerType === 'pen' || e.pointerType !== 'pen') return false; // palm
      this.stroke = null; // a palm's touch stroke, started just before the pen landed
    } else if (current) {
      this.finish(); // a cancelled stroke is kept, then a new one starts
    }
    if (e.pointerType === 'touch' && this.opts.penOnly()) return false;
    this.stroke = {
      pointerId: e.pointerId,
      pointerType: e.pointerType,
      points: [],
      cancelled: false,
    };
    this.add(e);
    return true;
  }

  move(e: PointerInput): void {
    const s = this.stroke;
    if (!s || e.pointerId !== s.pointerId) return;
    if (s.cancelled) this.armGrace();
    const samples = e.coalesced && e.coalesced.length > 0 ? e.coalesced : [e];
    for (const sample of samples) this.add(sample);
  }

  up(e: PointerInput): void {
    const s = this.stroke;
    if (!s || e.pointerId !== s.pointerId) return;
    this.add(e);
    this.finish();
  }

  /** Not an end: the stroke stays open for its pointer, and is kept if nothing follows. */
  cancel(e: PointerInput): void {
    const s = this.stroke;
    if (!s || e.pointerId !== s.pointerId) return;
    s.cancelled = true;
    this.armGrace();
  }

  /** End the stroke in progress now (the tool changed, the page went away). */
  flush(): void {
    if (this.stroke) this.finish();
  }

  private add(sample: PointerSample): void {
    const s = this.stroke;
    if (!s) return;
    const last = s.points[s.points.length - 1];
    const point: CssPoint = [sample.x, sample.y, pressureOf(sample)];
    if (last && last[0] === point[0] && last[1] === point[1]) {
      last[2] = Math.max(last[2], point[2]);
    } else {
      s.points.push(point);
    }
    this.opts.onProgress?.(s);
  }

  private armGrace(): void {
    if (this.timer !== null) this.opts.clearTimer(this.timer);
    this.timer = this.opts.setTimer(() => {
      this.timer = null;
      if (this.stroke?.cancelled) this.finish();
    }, this.opts.cancelGraceMs);
  }

  private finish(): void {
    const s = this.stroke;
    this.stroke = null;
    if (this.timer !== null) this.opts.clearTimer(this.timer);
    this.timer = null;
    this.opts.onProgress?.(null);
    if (s && s.points.length > 0) this.opts.onStroke({ pointerType: s.pointerType, points: s.points });
  }
}
