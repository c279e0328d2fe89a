import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '$lib/api';
import {
  MAX_TOTAL_WAIT_S,
  MAX_WAIT_S,
  StillBusy,
  isBusy,
  retryAt,
  retryDelayMs,
  withBusyRetry,
} from './loginRetry';

const busy = (retryAfter: number | null = 3) =>
  new ApiError(503, 'busy', 'the server is busy checking passwords', null, retryAfter);

/** An attempt that answers from `script` in turn (an Error is thrown), counting its calls. */
function scripted(script: (unknown | Error)[]) {
  const calls: number[] = [];
  const attempt = async () => {
    calls.push(Date.now());
    const next = script.shift();
    if (next instanceof Error) throw next;
    return next;
  };
  return { attempt, calls };
}

describe('retryDelayMs', () => {
  it('waits Retry-After plus a jitter of at most a fifth (at least 1 s), capped', () => {
    expect(retryDelayMs(3, () => 0)).toBe(3000);
    expect(retryDelayMs(3, () => 0.5)).toBe(3500); // spread: max(1, 0.6) = 1 s
    expect(retryDelayMs(20, () => 0.999)).toBe(Math.round((20 + 0.999 * 4) * 1000));
    expect(retryDelayMs(600, () => 0.9)).toBe(MAX_WAIT_S * 1000);
    expect(retryDelayMs(59, () => 0.9)).toBe(MAX_WAIT_S * 1000);
  });

  it('waits a few seconds when Retry-After is missing or nonsense', () => {
    expect(retryDelayMs(null, () => 0)).toBe(5000);
    expect(retryDelayMs(0, () => 0)).toBe(5000);
    expect(retryDelayMs(Number.NaN, () => 0)).toBe(5000);
  });

  it('spreads a hall told the same Retry-After', () => {
    const delays = new Set(Array.from({ length: 50 }, () => retryDelayMs(2)));
    expect(delays.size).toBeGreaterThan(10);
    for (const d of delays) expect(d >= 2000 && d <= 3000).toBe(true);
  });
});

describe('isBusy', () => {
  it('is a 503 with code busy only', () => {
    expect(isBusy(busy())).toBe(true);
    expect(isBusy(new ApiError(503, 'server_error', 'down'))).toBe(false);
    expect(isBusy(new ApiError(429, 'rate_limited', 'slow', null, 3))).toBe(false);
    expect(isBusy(new ApiError(401, 'bad_credentials', 'no'))).toBe(false);
    expect(isBusy(new Error('busy'))).toBe(false);
  });
});

describe('withBusyRetry', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-12-08T08:00:00Z'));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('tries again after Retry-After and jitter, counting down once a second', async () => {
    const { attempt, calls } = scripted([busy(3), { ok: true }]);
    const waits: [number, boolean][] = [];
    const result = withBusyRetry(attempt, {
      onWait: (left, first) => waits.push([left, first]),
      random: () => 0.5, // 3 s + 0.5 s
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(1);
    expect(waits).toEqual([[4, true]]);
    await vi.advanceTimersByTimeAsync(500);
    expect(waits.map(([left]) => left)).toEqual([4, 3]);
    await vi.advanceTimersByTimeAsync(2999);
    expect(calls).toHaveLength(1); // not a moment early
    expect(waits.map(([left]) => left)).toEqual([4, 3, 2, 1]);
    await vi.advanceTimersByTimeAsync(1);
    await expect(result).resolves.toEqual({ ok: true });
    expect(calls[1]! - calls[0]!).toBe(3500);
    // announced once: only the wait's first tick is `first`
    expect(waits.filter(([, first]) => first)).toHaveLength(1);
  });

  it('announces only the first wait of a login, then follows each new Retry-After', async () => {
    const { attempt, calls } = scripted([busy(1), busy(5), busy(2), 'in']);
    const firsts: boolean[] = [];
    const result = withBusyRetry(attempt, {
      onWait: (_left, first) => firsts.push(first),
      random: () => 0,
    });
    await vi.advanceTimersByTimeAsync(8000);
    await expect(result).resolves.toBe('in');
    expect(calls.map((t) => t - calls[0]!)).toEqual([0, 1000, 6000, 8000]);
    expect(firsts.filter(Boolean)).toHaveLength(1);
    expect(firsts[0]).toBe(true);
  });

  it.each([
    ['wrong password', new ApiError(401, 'bad_credentials', 'no')],
    ['throttled', new ApiError(429, 'rate_limited', 'slow', null, 30)],
    ['server down (503 without busy)', new ApiError(503, 'server_error', 'down', null, 10)],
    ['no network', new ApiError(0, 'network', 'offline')],
  ])('never retries when %s', async (_why, error) => {
    const { attempt, calls } = scripted([error, 'in']);
    const onWait = vi.fn();
    const result = withBusyRetry(attempt, { onWait });
    const settled = expect(result).rejects.toBe(error);
    await vi.advanceTimersByTimeAsync(120_000);
    await settled;
    expect(calls).toHaveLength(1);
    expect(onWait).not.toHaveBeenCalled();
  });

  it('stops when a retry is refused otherwise (the password was wrong after all)', async () => {
    const wrong = new ApiError(401, 'bad_credentials', 'no');
    const { attempt, calls } = scripted([busy(1), wrong, 'in']);
    const result = withBusyRetry(attempt, { onWait: () => {}, random: () => 0 });
    const settled = expect(result).rejects.toBe(wrong);
    await vi.advanceTimersByTimeAsync(60_000);
    await settled;
    expect(calls).toHaveLength(2);
  });

  it('cancelling stops the countdown at once and never tries again', async () => {
    const { attempt, calls } = scripted([busy(10), 'in']);
    const controller = new AbortController();
    const waits: number[] = [];
    const result = withBusyRetry(attempt, {
      onWait: (left) => waits.push(left),
      signal: controller.signal,
      random: () => 0,
    });
    const settled = expect(result).rejects.toMatchObject({ name: 'AbortError' });
    await vi.advanceTimersByTimeAsync(2500);
    controller.abort();
    await settled;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toHaveLength(1);
    expect(waits).toEqual([10, 9, 8]);
  });

  it('gives up, saying so, after waiting the longest time in all', async () => {
    const { attempt, calls } = scripted(Array.from({ length: 100 }, () => busy(60)));
    const result = withBusyRetry(attempt, { onWait: () => {}, random: () => 0 });
    const settled = expect(result).rejects.toBeInstanceOf(StillBusy);
    await vi.advanceTimersByTimeAsync(MAX_TOTAL_WAIT_S * 1000 + 1000);
    await settled;
    expect(calls).toHaveLength(MAX_TOTAL_WAIT_S / 60 + 1);
  });
});

describe('retryAt', () => {
  it('is Retry-After seconds from now, or unknown without it', () => {
    const limited = (seconds: number | null) =>
      new ApiError(429, 'rate_limited', 'too many', null, seconds);
    expect(retryAt(limited(90), 1_000_000)?.getTime()).toBe(1_090_000);
    expect(retryAt(limited(null), 1_000_000)).toBeNull();
  });
});
