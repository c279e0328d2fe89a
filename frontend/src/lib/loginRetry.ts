/**
 * Waiting out a busy server at login (docs/WEBAPP.md, "Login and my meetings"; docs/OPERATIONS.md,
 * "A hall logging in at once"). When too many logins wait for a password check the server
 * answers `503 busy` with `Retry-After`; the login page waits that long — plus a little random
 * jitter, so that a hall of tablets told the same number does not come back in the same instant —
 * and tries again by itself, counting the seconds down, until it gets another answer, the user
 * cancels, or it has waited `MAX_TOTAL_WAIT_S` in all. Any other refusal (401 wrong password,
 * 429 throttled, a 503 that is not `busy`, no network) ends the waiting and is the caller's to
 * say.
 */
import { ApiError } from '$lib/api';
import { fmtTime } from '$lib/i18n';
import { m } from '$lib/paraglide/messages.js';

/** The longest single wait, whatever `Retry-After` says (the server sends at most 60). */
export const MAX_WAIT_S = 60;
/** The wait when a `503 busy` came without a usable `Retry-After`. */
export const DEFAULT_WAIT_S = 5;
/** Jitter: up to this fraction of the wait, at least `MIN_JITTER_S`, at most `MAX_JITTER_S`. */
export const JITTER_FRACTION = 0.2;
export const MIN_JITTER_S = 1;
export const MAX_JITTER_S = 5;
/** After waiting this long in all the page stops and says the server is still busy. */
export const MAX_TOTAL_WAIT_S = 600;

/** The server's "too many logins wait, come back in `retryAfter` s". */
export function isBusy(error: unknown): error is ApiError {
  return error instanceof ApiError && error.busy;
}

/** When a password check refused for too many failures (`429 rate_limited`: a login, or the
 *  current password on the account page) may be tried again: `Retry-After` from `now`, if sent. */
export function retryAt(error: ApiError, now: number = Date.now()): Date | null {
  return error.retryAfter !== null ? new Date(now + error.retryAfter * 1000) : null;
}

/** "Too many failed attempts", with the time to wait until when it is known. */
export function rateLimitedText(until: Date | null): string {
  return until
    ? m.common_login_rate_limited_until({ time: fmtTime(until, { seconds: true }) })
    : m.common_login_rate_limited();
}

/** Milliseconds to wait before the next try: `Retry-After` plus jitter, capped.
 *  `random` returns a number in [0, 1) (Math.random). */
export function retryDelayMs(retryAfter: number | null, random: () => number = Math.random): number {
  const base =
    retryAfter !== null && Number.isFinite(retryAfter) && retryAfter > 0
      ? Math.min(retryAfter, MAX_WAIT_S)
      : DEFAULT_WAIT_S;
  const spread = Math.min(MAX_JITTER_S, Math.max(MIN_JITTER_S, base * JITTER_FRACTION));
  const jitter = Math.min(Math.max(random(), 0), 1) * spread;
  return Math.round(Math.min(MAX_WAIT_S, base + jitter) * 1000);
}

/** The server stayed busy for `MAX_TOTAL_WAIT_S`: the page stopped trying. */
export class StillBusy extends Error {
  readonly last: ApiError;
  constructor(last: ApiError) {
    super('the server stayed busy');
    this.name = 'StillBusy';
    this.last = last;
  }
}

export interface BusyRetryOptions {
  /** A wait begins (`first`: the first of this login) and then each second: whole seconds left. */
  onWait: (secondsLeft: number, first: boolean) => void;
  /** Cancelling rejects with an `AbortError` at once. */
  signal?: AbortSignal;
  random?: () => number;
}

function aborted(): DOMException {
  return new DOMException('cancelled', 'AbortError');
}

/** Wait `ms`, calling `tick(whole seconds left)` at the start and as each second passes. */
function countdown(ms: number, tick: (left: number) => void, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(aborted());
      return;
    }
    const end = Date.now() + ms;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(aborted());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const step = (): void => {
      const left = end - Date.now();
      if (left <= 0) {
        signal?.removeEventListener('abort', onAbort);
        resolve();
        return;
      }
      tick(Math.ceil(left / 1000));
      // wake when the shown number changes (or at the end)
      timer = setTimeout(step, left % 1000 || 1000);
    };
    step();
  });
}

/** `attempt()`, and again after each `503 busy` as described above. */
export async function withBusyRetry<T>(
  attempt: () => Promise<T>,
  options: BusyRetryOptions,
): Promise<T> {
  let waited = 0;
  let first = true;
  for (;;) {
    if (options.signal?.aborted) throw aborted();
    try {
      return await attempt();
    } catch (error) {
      if (!isBusy(error)) throw error;
      if (options.signal?.aborted) throw aborted();
      if (waited >= MAX_TOTAL_WAIT_S * 1000) throw new StillBusy(error);
      const ms = retryDelayMs(error.retryAfter, options.random);
      const announce = first;
      first = false;
      let told = false;
      await countdown(
        ms,
        (left) => {
          options.onWait(left, announce && !told);
          told = true;
        },
        options.signal,
      );
      waited += ms;
    }
  }
}
