// What the server says about resolutions, minutes, signing sessions and the archive
// (docs/features/archive.md). Plain types, shared by the records, archive and signing pages.

export type Kind = 'resolution' | 'minutes';

export interface Signature {
  field: string;
  kind?: string;
  signer: string | null;
  signing_time: string | null;
  timestamp_time: string | null;
  ok: boolean;
}

export interface ResolutionInfo {
  id: number;
  council_id: number;
  meeting_id: number;
  agenda_item_id: number | null;
  poll_id: number | null;
  title: string;
  status: 'draft' | 'generated' | 'signed' | 'archived';
  number: string;
  label: string;
  draft_sha256: string;
  generated_sha256: string | null;
  signed_sha256: string | null;
  signatures: Signature[];
  public: boolean;
  created_at: string | null;
  generated_at: string | null;
  signed_at: string | null;
}

export interface MinutesInfo {
  id: number;
  meeting_id: number;
  council_id: number;
  status: 'generated' | 'signed' | 'archived';
  generated_sha256: string;
  signed_sha256: string | null;
  signatures: Signature[];
  created_at: string | null;
  signed_at: string | null;
}

export interface InboxItem {
  kind: Kind;
  id: number;
  title: string;
  label: string;
  number: string;
  council_id: number;
  council: string;
  meeting_id: number;
  meeting_title: string;
  ready_at: string | null;
}

export interface ArchiveRecord {
  id: number;
  kind: Kind;
  source_id: number;
  council_id: number;
  council: string;
  meeting_id: number;
  number: string;
  label: string;
  title: string;
  date: string;
  sha256: string;
  size: number;
  signatures: Signature[];
  archived_at: string | null;
  public: boolean;
  published_at: string | null;
}

export interface SessionStarted {
  session_id: string;
  kind: Kind;
  target_id: number;
  digest_b64: string;
  digest_algorithm: string;
  expires_at: string | null;
  /** The one-time signing ticket: returned once, opens only this session (docs/SECURITY.md). */
  ticket: string;
}

/** The API path of a resolution or minutes: `/api/resolutions/7`, `/api/minutes/3`. */
export function targetPath(kind: Kind, id: number): string {
  return `/api/${kind === 'resolution' ? 'resolutions' : 'minutes'}/${id}`;
}

/** The file of a target: `which` = draft (resolutions), generated or signed. */
export function fileUrl(kind: Kind, id: number, which: 'draft' | 'generated' | 'signed'): string {
  return `${targetPath(kind, id)}/file?which=${which}`;
}

/** Shell-quote one argument for the command shown to copy (POSIX sh). */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_./:@=+-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export interface RemoteCommand {
  origin: string;
  session: string;
  ticket: string;
  module: string;
  tokenLabel: string;
  keyLabel: string;
}

/** The exact `quorum sign-remote` command for a session. The session's one-time ticket goes in
 *  the environment (`ps` does not show it), and the line starts with a space, which keeps it out
 *  of the shell's history where HISTCONTROL ignores such lines (Debian's and Ubuntu's default);
 *  the ticket dies anyway when the session is signed, cancelled or expires (docs/SECURITY.md,
 *  "Signing tickets"). */
export function remoteCommand(c: RemoteCommand): string {
  return [
    ` QUORUM_SIGNING_TICKET=${shellQuote(c.ticket)} quorum sign-remote`,
    `--url ${shellQuote(c.origin)}`,
    `--session ${shellQuote(c.session)}`,
    `--pkcs11-module ${shellQuote(c.module)}`,
    `--token-label ${shellQuote(c.tokenLabel)}`,
    `--key-label ${shellQuote(c.keyLabel)}`,
  ].join(' ');
}

/** A certificate file as PEM: PEM text is kept, DER bytes are wrapped. */
export function certificateToPem(bytes: Uint8Array): string {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (text.includes('-----BEGIN CERTIFICATE-----')) return text.trim() + '\n';
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  const b64 = btoa(binary);
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}
