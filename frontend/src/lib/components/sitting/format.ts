/** Times and numbers in the current language, for the sitting view and the ballot ($lib/i18n). */
import { fmtNumber, fmtTime } from '$lib/i18n';

/** hh:mm of an ISO time or a Date, local time. */
export function hhmm(at: string | Date | null | undefined): string {
  return at ? fmtTime(at) : '';
}

/** hh:mm:ss of an ISO time or a Date, local time. */
export function hhmmss(at: string | Date | null | undefined): string {
  return at ? fmtTime(at, { seconds: true }) : '';
}

export function num(n: number): string {
  return fmtNumber(n);
}

export function percent(fraction: number): string {
  return fmtNumber(fraction, { style: 'percent', maximumFractionDigits: 1 });
}
