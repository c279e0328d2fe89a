/**
 * Who is signed in (docs/WEBAPP.md, "Structure"). The server keeps the session in an HttpOnly
 * cookie; the page learns the user from POST /api/auth/login or GET /api/auth/me, whose
 * `roles` map a council id to the user's role there (docs/API.md, "Authentication").
 *
 * A session that ends while the app is open (expired, signed out elsewhere, revoked by a
 * password change) is noticed by the next API call's 401 or by the realtime connection; both
 * lead to `/login?expired=1&next=…`, where the login page says why. Each of these ends wipes the
 * offline briefcase before anything else (docs/SECURITY.md, "The offline briefcase").
 */
import { goto } from '$app/navigation';
import { api, ApiError, readCookie, setCsrfToken, setUnauthorizedHandler } from '$lib/api';
import { withBusyRetry, type BusyRetryOptions } from '$lib/loginRetry';
import { wipeBriefcase, wipeIfNotOwner } from '$lib/offline/wipe';

export type Role = 'secretary' | 'chair' | 'delegate' | 'display';

export interface User {
  id: number;
  username: string;
  name: string;
  is_admin: boolean;
  /** council id (as a string) → role */
  roles: Record<string, Role>;
  /** the secretariat set the password and its owner has not chosen their own since */
  temporary_password?: boolean;
}

interface LoginAnswer {
  token: string;
  csrf_token: string;
  user: User;
}

/** The meeting fields the role-based link needs. */
export interface MeetingRef {
  id: number;
  council_id: number;
}

export type SessionStatus = 'unknown' | 'loading' | 'signed-in' | 'signed-out' | 'unreachable';

class Session {
  user = $state<User | null>(null);
  status = $state<SessionStatus>('unknown');
  private loading: Promise<void> | null = null;
  private leaving = false;

  /** Ask the server who we are (once; again after `reset`). */
  load(): Promise<void> {
    this.loading ??= this.fetchMe();
    return this.loading;
  }

  private async fetchMe(): Promise<void> {
    this.status = 'loading';
    try {
      const user = await api.get<User>('/api/auth/me', { expect401: true });
      await wipeQuietly(user.id);
      this.user = user;
      this.status = 'signed-in';
    } catch (error) {
      this.user = null;
      if (error instanceof ApiError && error.status === 401) {
        await wipeQuietly(); // the session ended while the device was away (docs/SECURITY.md)
        this.status = 'signed-out';
      } else {
        this.status = 'unreachable';
        this.loading = null; // try again on the next load()
      }
    }
  }

  /** Log in; an `ApiError` says why not (bad_credentials, rate_limited, network …). With
   *  `busy`, a `503 busy` (too many logins at once) is waited out and tried again
   *  (lib/loginRetry.ts): the name and password stay in this call's memory only. */
  async login(username: string, password: string, busy?: BusyRetryOptions): Promise<User> {
    const attempt = () =>
      api.post<LoginAnswer>(
        '/api/auth/login',
        { username, password },
        { expect401: true, ...(busy?.signal ? { signal: busy.signal } : {}) },
      );
    const answer = busy ? await withBusyRetry(attempt, busy) : await attempt();
    setCsrfToken(answer.csrf_token);
    await wipeQuietly(answer.user.id);
    this.user = answer.user;
    this.status = 'signed-in';
    this.loading = Promise.resolve();
    return answer.user;
  }

  /** Change one's own password; an `ApiError` says why not (reauth_failed, weak_password,
   *  same_password, rate_limited …). The server ends every other session of the user and keeps
   *  this one (docs/features/accounts.md, "Your password"). */
  async changePassword(current: string, next: string): Promise<void> {
    this.user = await api.post<User>('/api/auth/password', {
      current_password: current,
      new_password: next,
    });
  }

  /** Log out here (the token is revoked on the server) and go to the login page. */
  async logout(): Promise<void> {
    this.leaving = true; // to /login itself, not /login?next=… nor ?expired=1
    // the briefcase goes first: once the server ends the session, the socket hears of it
    await wipeQuietly();
    try {
      await api.post('/api/auth/logout', undefined, { expect401: true });
    } catch {
      // already gone or server unreachable: the page forgets the user either way
    }
    this.forget();
    this.status = 'signed-out';
    try {
      await goto('/login', { replaceState: true });
    } finally {
      this.leaving = false;
    }
  }

  /** The session ended under us: the briefcase is wiped, then back to the login page, which
   *  says so, then here again. */
  expire(): void {
    this.forget();
    this.status = 'loading';
    void wipeQuietly().then(() => {
      this.status = 'signed-out';
      this.toLogin(true);
    });
  }

  /** To `/login?next=<here>` (once, however many callers notice at the same time). */
  toLogin(expired: boolean): void {
    if (this.leaving || typeof window === 'undefined') return;
    if (window.location.pathname === '/login') return;
    this.leaving = true;
    void goto(loginUrl({ expired, next: here() }), { replaceState: true }).finally(() => {
      this.leaving = false;
    });
  }

  /** A logout of this page is under way: the end of the session it causes is no news. */
  get signingOut(): boolean {
    return this.leaving;
  }

  /** A first visit has no CSRF cookie; a session that ended under the page still has it. */
  hadSession(): boolean {
    return readCookie('quorum_csrf') !== null;
  }

  /** The user's role in a council (an administrator without one stands in as the chair). */
  roleIn(councilId: number): Role | null {
    const user = this.user;
    if (!user) return null;
    return user.roles[String(councilId)] ?? (user.is_admin ? 'chair' : null);
  }

  private forget(): void {
    this.user = null;
    this.loading = null;
    setCsrfToken(null);
  }
}

/** Wipe the offline briefcase (with `keepFor`: unless it is that user's); a browser without
 *  storage has nothing to wipe. */
async function wipeQuietly(keepFor?: number): Promise<void> {
  try {
    await (keepFor === undefined ? wipeBriefcase() : wipeIfNotOwner(keepFor));
  } catch {
    // no IndexedDB or Cache API here (private mode, tests): nothing was kept
  }
}

export const session = new Session();
setUnauthorizedHandler(() => session.expire());

function here(): string {
  return window.location.pathname + window.location.search;
}

/** `/login`, with why we are there and where to go after. */
export function loginUrl(options: { expired?: boolean; next?: string } = {}): string {
  const params = new URLSearchParams();
  if (options.expired) params.set('expired', '1');
  if (options.next && options.next !== '/' && !options.next.startsWith('/login')) {
    params.set('next', options.next);
  }
  const query = params.toString();
  return query ? `/login?${query}` : '/login';
}

/** Only a path of this app: `/m/3`, never `//evil.example` or `https://…`. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  return next;
}

/** Where a meeting opens for this user: their view of it in that council. */
export function meetingPath(meeting: MeetingRef, role: Role | null): string {
  switch (role) {
    case 'chair':
    case 'secretary':
      return `/m/${meeting.id}/chair`;
    case 'display':
      return `/m/${meeting.id}/display`;
    default:
      return `/m/${meeting.id}`;
  }
}
