/**
 * The one store the sitting views use (docs/WEBAPP.md, "The realtime client"): a `MeetingSync`
 * over the app's shared connection, its fields mirrored into Svelte state. Views read the
 * fields and call `command`; they never touch the socket.
 *
 *   const s = createSitting(meetingId);
 *   s.state?.agenda, s.synced, s.connection, s.progress[pollId] …
 *   await s.command('speakers.request', { meeting_id, item_id });
 *   s.destroy();   // in the component's cleanup
 *
 * Fields are `$state.raw`: the reducer replaces what changed and keeps the identity of the
 * rest, so a `$derived` over an untouched part does not re-run its dependents.
 */
import {
  acquireConnection,
  releaseConnection,
  type Connection,
  type ConnectionOptions,
} from '$lib/realtime/connection';
import { MeetingSync, type CommandResult, type MeetingSyncOptions } from '$lib/realtime/meeting';
import { fromSnapshot } from '$lib/realtime/reducer';
import { wipeBriefcase } from '$lib/offline/wipe';
import { session } from '$lib/session.svelte';
import type {
  AckError,
  CommandOptions,
  ConnectionState,
  MeetingDocument,
  Poll,
  Presence,
  Progress,
  SittingState,
  WireSnapshot,
} from '$lib/realtime/types';

export type { CommandResult } from '$lib/realtime/meeting';

export interface SittingOptions extends MeetingSyncOptions {
  /** use this connection instead of the app's shared one (tests) */
  connection?: Connection;
  connectionOptions?: ConnectionOptions;
  /** called once when the server refuses the session; default: back to the login page */
  onUnauthenticated?: (() => void) | null;
  /** the meeting as kept offline, shown while the socket is down before any join answered;
   *  default: GET /api/meetings/{id}/snapshot, which the service worker answers from the
   *  briefcase when the meeting was downloaded (null: none) */
  offlineSnapshot?: ((meetingId: number) => Promise<OfflineSnapshot | null>) | null;
}

export interface OfflineSnapshot {
  snapshot: WireSnapshot;
  /** when the server gave it */
  at: Date;
}

export class Sitting {
  state = $state.raw<SittingState | null>(null);
  connection = $state.raw<ConnectionState>('connecting');
  synced = $state.raw(false);
  dataAt = $state.raw<Date | null>(null);
  presence = $state.raw<Presence | null>(null);
  progress = $state.raw<Record<number, Progress>>({});
  voters = $state.raw<Record<number, number[]>>({});
  /** staff: live reading counts per document (`reading_opened` updates) */
  reading = $state.raw<Record<number, number>>({});
  serverOffsetMs = $state.raw(0);
  /** why the meeting could not be joined (`not_found`, `forbidden`), else null */
  error = $state.raw<AckError | null>(null);

  readonly meetingId: number;
  private readonly sync: MeetingSync;
  private readonly conn: Connection;
  private readonly shared: boolean;
  private readonly off: () => void;
  private unauthenticatedSent = false;
  private seedAsked = false;

  constructor(meetingId: number, options: SittingOptions = {}) {
    this.meetingId = meetingId;
    this.shared = !options.connection;
    this.conn = options.connection ?? acquireConnection(options.connectionOptions);
    this.sync = new MeetingSync(this.conn, meetingId, {
      fetchPoll: options.fetchPoll === undefined ? fetchPoll : options.fetchPoll,
      fetchDocuments: options.fetchDocuments === undefined ? fetchDocuments : options.fetchDocuments,
      ...(options.gapMs !== undefined ? { gapMs: options.gapMs } : {}),
      ...(options.joinTimeoutMs !== undefined ? { joinTimeoutMs: options.joinTimeoutMs } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
    const onUnauthenticated =
      options.onUnauthenticated === undefined ? backToLogin : options.onUnauthenticated;
    const offlineSnapshot =
      options.offlineSnapshot === undefined ? fetchOfflineSnapshot : options.offlineSnapshot;
    this.off = this.sync.subscribe(() => {
      this.copy();
      if (this.connection === 'offline' && !this.state && offlineSnapshot && !this.seedAsked) {
        this.seedAsked = true;
        void offlineSnapshot(meetingId).then((kept) => {
          if (kept) this.sync.seed(fromSnapshot(kept.snapshot), kept.at);
        });
      }
      if (this.connection === 'unauthenticated' && !this.unauthenticatedSent) {
        this.unauthenticatedSent = true;
        onUnauthenticated?.();
      }
    });
    this.copy();
  }

  /** Send a command (see `MeetingSync.command`): never throws, resolves to the ack. */
  command(
    name: string,
    payload: Record<string, unknown> = {},
    options: CommandOptions = {},
  ): Promise<CommandResult> {
    return this.sync.command(name, payload, options);
  }

  destroy(): void {
    this.off();
    this.sync.destroy();
    if (this.shared) releaseConnection(this.conn);
  }

  private copy(): void {
    const s = this.sync.snapshot();
    this.state = s.state;
    this.connection = s.connection;
    this.synced = s.synced;
    this.dataAt = s.dataAt;
    this.presence = s.presence;
    this.progress = s.progress;
    this.voters = s.voters;
    this.reading = s.reading;
    this.serverOffsetMs = s.serverOffsetMs;
    this.error = s.error;
  }
}

/** The sitting store for one meeting. Call `destroy()` when the view goes away. */
export function createSitting(meetingId: number, options: SittingOptions = {}): Sitting {
  return new Sitting(meetingId, options);
}

/** The session ended under the socket: wipe the briefcase first (docs/SECURITY.md). */
function backToLogin(): void {
  if (typeof window === 'undefined' || session.signingOut) return;
  void wipeBriefcase()
    .catch(() => {})
    .finally(() => window.location.assign('/login?expired=1'));
}

async function fetchOfflineSnapshot(meetingId: number): Promise<OfflineSnapshot | null> {
  try {
    const response = await fetch(`/api/meetings/${meetingId}/snapshot`, {
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
    });
    if (!response.ok) return null;
    const date = Date.parse(response.headers.get('date') ?? '');
    const at = new Date(Number.isNaN(date) ? Date.now() : date);
    return { snapshot: (await response.json()) as WireSnapshot, at };
  } catch {
    return null;
  }
}

async function getJson<T>(path: string): Promise<T | null> {
  if (typeof fetch === 'undefined') return null;
  try {
    const response = await fetch(path, {
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
    });
    return response.ok ? ((await response.json()) as T) : null;
  } catch {
    return null;
  }
}

function fetchPoll(pollId: number): Promise<Poll | null> {
  return getJson<Poll>(`/api/polls/${pollId}`);
}

async function fetchDocuments(meetingId: number): Promise<MeetingDocument[] | null> {
  const body = await getJson<MeetingDocument[] | { documents: MeetingDocument[] }>(
    `/api/meetings/${meetingId}/documents`,
  );
  if (!body) return null;
  return Array.isArray(body) ? body : body.documents ?? null;
}
