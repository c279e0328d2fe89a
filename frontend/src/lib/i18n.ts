/**
 * The language of the app (docs/WEBAPP.md, "Languages").
 *
 * Vietnamese is the base locale, English the other. The choice is kept in localStorage (under
 * Paraglide's own key) and switched without a reload: Paraglide's `getLocale` is overwritten
 * with one that reads a Svelte-tracked value, so every `m.key()` rendered in markup or in a
 * `$derived` re-renders by itself when the language changes. Component state (an open ballot,
 * a live connection) is untouched by a switch. `<html lang>` follows the choice.
 *
 * In a component, call messages in markup or `$derived` (`{m.common_login()}`), not once in
 * `<script>`: a plain `const label = m.x()` would keep the first language.
 */
import { createSubscriber } from 'svelte/reactivity';
import {
  baseLocale,
  isLocale,
  localStorageKey,
  overwriteGetLocale,
  type Locale,
} from '$lib/paraglide/runtime.js';

export type { Locale };

const INTL: Record<Locale, string> = { vi: 'vi-VN', en: 'en-GB' };

let current: Locale = stored() ?? baseLocale;
let notify: (() => void) | null = null;
const track = createSubscriber((update) => {
  notify = update;
  return () => {
    notify = null;
  };
});

overwriteGetLocale(() => {
  track();
  return current;
});

function stored(): Locale | null {
  try {
    const value = globalThis.localStorage?.getItem(localStorageKey);
    return value && isLocale(value) ? value : null;
  } catch {
    return null; // storage disabled: the base locale
  }
}

/** The current locale, tracked by Svelte (markup and `$derived` re-run when it changes). */
export function locale(): Locale {
  track();
  return current;
}

/** The BCP 47 tag `Intl` formats with for the current locale. */
export function intlLocale(): string {
  return INTL[locale()];
}

/** Switch the language now, remember it, and keep `<html lang>` in step. */
export function setLocale(next: Locale): void {
  if (next === current) return;
  current = next;
  try {
    globalThis.localStorage?.setItem(localStorageKey, next);
  } catch {
    // storage disabled: the choice lasts until the page is left
  }
  syncDocument();
  notify?.();
}

function syncDocument(): void {
  if (typeof document !== 'undefined') document.documentElement.lang = current;
}

/** Called once by the root layout: `<html lang>` and a switch made in another tab. */
export function startI18n(): () => void {
  syncDocument();
  if (typeof window === 'undefined') return () => {};
  const onStorage = (event: StorageEvent): void => {
    if (event.key === localStorageKey && event.newValue && isLocale(event.newValue)) {
      setLocale(event.newValue);
    }
  };
  window.addEventListener('storage', onStorage);
  return () => window.removeEventListener('storage', onStorage);
}

type When = Date | string | number;

function toDate(when: When): Date {
  return when instanceof Date ? when : new Date(when);
}

/** 09:05 (with `seconds`: 09:05:07), in the device's time zone. */
export function fmtTime(when: When, options: { seconds?: boolean } = {}): string {
  return new Intl.DateTimeFormat(intlLocale(), {
    hour: '2-digit',
    minute: '2-digit',
    ...(options.seconds ? { second: '2-digit' } : {}),
    hourCycle: 'h23',
  }).format(toDate(when));
}

/** The day in words: "Thứ Hai, 7 tháng 12, 2026" / "Monday 7 December 2026". */
export function fmtDate(when: When): string {
  return new Intl.DateTimeFormat(intlLocale(), { dateStyle: 'full' }).format(toDate(when));
}

/** Day and time: "07/12/2026, 09:00" / "7 Dec 2026, 09:00". */
export function fmtDateTime(when: When): string {
  return new Intl.DateTimeFormat(intlLocale(), {
    dateStyle: 'medium',
    timeStyle: 'short',
    hourCycle: 'h23',
  }).format(toDate(when));
}

export function fmtNumber(value: number, options?: Intl.NumberFormatOptions): string {
  return new Intl.NumberFormat(intlLocale(), options).format(value);
}
