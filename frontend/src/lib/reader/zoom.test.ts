import { describe, expect, it } from 'vitest';
import {
  anchoredScroll,
  canvasScale,
  clampZoom,
  doubleTapZoom,
  imageWidth,
  MAX_CANVAS_PIXELS,
  needsVector,
  pageImageUrl,
  stepZoom,
} from './zoom';

describe('zoom', () => {
  it('asks for the smallest image at least as sharp as the screen', () => {
    expect(imageWidth(380, 1)).toBe(400);
    expect(imageWidth(760, 1)).toBe(800);
    expect(imageWidth(760, 2)).toBe(1600);
    expect(imageWidth(1000, 1)).toBe(1200);
    expect(imageWidth(3000, 1)).toBe(1600);
  });

  it('a sharper image once zoomed in', () => {
    expect(imageWidth(700 * 2, 1)).toBeGreaterThan(imageWidth(700, 1));
  });

  it('calls pdf.js only past what the largest image can show', () => {
    expect(needsVector(1600, 1)).toBe(false);
    expect(needsVector(2000, 1)).toBe(false);
    expect(needsVector(2001, 1)).toBe(true);
    expect(needsVector(1100, 2)).toBe(true);
  });

  it('keeps the pdf.js canvas within the pixel cap', () => {
    const scale = canvasScale(595, 842, 700 * 4, 2);
    expect(595 * 842 * scale * scale).toBeLessThanOrEqual(MAX_CANVAS_PIXELS + 1);
    expect(canvasScale(595, 842, 595, 1)).toBeCloseTo(1);
  });

  it('steps, clamps and double-taps', () => {
    expect(stepZoom(1, 1)).toBe(1.5);
    expect(stepZoom(1.7, 1)).toBe(2);
    expect(stepZoom(1.7, -1)).toBe(1.5);
    expect(stepZoom(4, 1)).toBe(4);
    expect(stepZoom(1, -1)).toBe(1);
    expect(clampZoom(9)).toBe(4);
    expect(clampZoom(0.2)).toBe(1);
    expect(clampZoom(Number.NaN)).toBe(1);
    expect(doubleTapZoom(1)).toBe(2);
    expect(doubleTapZoom(3)).toBe(1);
  });

  it('pins the version in the image URL (0-based page)', () => {
    expect(pageImageUrl(7, 2, 0, 800)).toBe('/api/documents/7/pages/0/image?version=2&width=800');
  });
});

describe('anchored zoom', () => {
  it('keeps the point under the fingers where it was', () => {
    // content x 300 (scroll 100 + finger 200) doubles to 600: scroll 400 keeps it under x 200
    expect(anchoredScroll(100, 200, 2)).toBe(400);
    expect(anchoredScroll(400, 200, 0.5)).toBe(100);
    expect(anchoredScroll(0, 200, 0.5)).toBe(0);
  });
});
