/**
 * A stroke's outline with perfect-freehand, drawn as an SVG path in page points.
 *
 * A pen has real pressure, so `simulatePressure` is off for it; fingers and mice have none
 * (stored as 0.5 everywhere), so theirs is simulated from speed. A stored stroke does not say
 * which device drew it: a stroke whose every pressure is 0.5 is taken as pressure-less.
 */
import { getStroke, type StrokeOptions } from 'perfect-freehand';

/** The pen's width in PDF points at pressure 0.5 (the export derives its width the same way). */
export const BASE_WIDTH_PT = 2.5;

export type PressurePoint = [number, number, number];

export function hasPressure(points: readonly PressurePoint[]): boolean {
  return points.some((p) => p[2] !== 0.5);
}

export function strokeOptions(
  points: readonly PressurePoint[],
  size = BASE_WIDTH_PT,
  last = true,
): StrokeOptions {
  return {
    size,
    thinning: 0.6,
    smoothing: 0.5,
    streamline: 0.4,
    simulatePressure: !hasPressure(points),
    last,
  };
}

/** The closed outline of `points` as an SVG path ("M … Q … Z"); empty for no points. */
export function outlinePath(points: readonly PressurePoint[], options: StrokeOptions): string {
  const outline = getStroke(points as PressurePoint[], options);
  if (outline.length === 0) return '';
  const f = (v: number) => (Math.round(v * 100) / 100).toString();
  const [first, ...rest] = outline as [number, number][];
  let d = `M${f(first![0])} ${f(first![1])}Q`;
  let prev = first!;
  for (const p of [...rest, first!]) {
    d += `${f(prev[0])} ${f(prev[1])} ${f((prev[0] + p[0]) / 2)} ${f((prev[1] + p[1]) / 2)} `;
    prev = p;
  }
  return d.trimEnd() + 'Z';
}
