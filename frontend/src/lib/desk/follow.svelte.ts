/**
 * A desk page that follows what others change in its meeting (docs/WEBAPP.md, "The
 * secretariat's meeting pages"): another secretary adding an agenda item, the chair moving one
 * during the sitting, a colleague uploading a document. The page joins the meeting through the
 * sitting store (the same join and events as the console) and, when the parts of the state it
 * shows have changed since it last looked, reloads its own rows over REST (the desk's rows carry
 * fields the sitting state does not). Not for the first sync, and not while `paused()` (a drag in
 * progress): then once it ends. Its own changes come back as events too; the reload they cause
 * finds what the page already shows.
 *
 * Call it while a component initialises (it registers effects and its cleanup).
 */
import { onDestroy } from 'svelte';
import type { SittingState } from '$lib/realtime/types';
import { createSitting, type Sitting } from '$lib/state/sitting.svelte';

/** Events come in bursts (a move renumbers many items): one reload for a burst. */
const SETTLE_MS = 250;

export function followMeeting(
  meetingId: number,
  parts: (state: SittingState) => readonly unknown[],
  reload: () => void,
  paused: () => boolean = () => false,
): Sitting {
  const sitting = createSitting(meetingId);
  let seen: readonly unknown[] | null = null;
  let owed = $state(false);
  let timer: ReturnType<typeof setTimeout> | undefined;

  $effect(() => {
    const state = sitting.state;
    if (!sitting.synced || !state) return;
    const now = parts(state); // the reducer keeps the identity of what did not change
    if (seen === null) {
      seen = now; // the first sync: the page loaded these itself
      return;
    }
    const before = seen;
    seen = now;
    if (now.every((part, i) => part === before[i])) return;
    owed = true;
  });
  $effect(() => {
    if (!owed || paused()) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (paused()) return; // the effect runs again when the pause ends
      owed = false;
      reload();
    }, SETTLE_MS);
  });
  onDestroy(() => {
    clearTimeout(timer);
    sitting.destroy();
  });
  return sitting;
}
