/** Times and numbers in the current language (vi-VN / en-GB), for the sitting view and ballot. */
import { getLocale } from '$lib/paraglide/runtime.js';

function tag(): string {
  return getLocale() === 'en' ? 'en-GB' : 'vi-VN';
}

/** hh:mm of an ISO time or a Date, local time. */
export function hhmm(at: string | Date | null | undefined): string {
  if (!at) return '';
  const d = typeof at === 'string' ? new Date(at) : at;
  return new Intl.DateTimeFormat(tag(), { hour: '2-digit', minute: '2-digit' }).format(d);
}

/** hh:mm:ss of an ISO time or a Date, local time. */
export function hhmmss(at: string | Date | null | undefined): string {
  if (!at) return '';
  const d = typeof at === 'string' ? new Date(at) : at;
  return new Intl.DateTimeFormat(tag(), {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).format(d);
}

export function num(n: number): string {
  return new Intl.NumberFormat(tag()).format(n);
}

export function percent(fraction: number): string {
  return new Intl.NumberFormat(tag(), { style: 'percent', maximumFractionDigits: 1 }).format(
    fraction,
  );
}
