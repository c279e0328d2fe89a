/**
 * Keeps a hall screen awake with the Screen Wake Lock API. The browser releases the lock
 * whenever the page is hidden, so it is asked for again each time the page becomes visible.
 * `onState` hears 'held', 'released' or 'unavailable' (no API, or the browser refused:
 * the display then shows a hint to turn off the device's sleep setting).
 */
export type WakeState = 'held' | 'released' | 'unavailable';

interface Sentinel {
  released: boolean;
  release(): Promise<void>;
  addEventListener(type: 'release', fn: () => void): void;
}
interface WakeLockApi {
  request(type: 'screen'): Promise<Sentinel>;
}

export function keepAwake(onState: (state: WakeState) => void): () => void {
  const api = (navigator as Navigator & { wakeLock?: WakeLockApi }).wakeLock;
  if (!api) {
    onState('unavailable');
    return () => {};
  }
  let sentinel: Sentinel | null = null;
  let stopped = false;
  const request = async () => {
    if (stopped || document.visibilityState !== 'visible' || (sentinel && !sentinel.released)) return;
    try {
      sentinel = await api.request('screen');
      onState('held');
      sentinel.addEventListener('release', () => {
        if (!stopped) onState('released');
      });
    } catch {
      onState('unavailable');
    }
  };
  const onVisible = () => void request();
  document.addEventListener('visibilitychange', onVisible);
  void request();
  return () => {
    stopped = true;
    document.removeEventListener('visibilitychange', onVisible);
    void sentinel?.release().catch(() => {});
  };
}
