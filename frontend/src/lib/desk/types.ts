/** What the secretariat desk reads from the server (docs/API.md, "Resources"). */
import type { Role } from '$lib/session.svelte';

export type MeetingStatus = 'draft' | 'published' | 'open' | 'closed' | 'archived';

export interface Council {
  id: number;
  name: string;
  short_name: string;
  my_role: Role | null;
  quorum: { num: number; den: number; strict: boolean };
}

export interface Member {
  id: number;
  council_id: number;
  user_id: number;
  username: string;
  name: string;
  email: string | null;
  is_active: boolean;
  /** the secretariat's password, not yet replaced by the member's own */
  temporary_password?: boolean;
  role: Role;
  title: string;
}

export interface Meeting {
  id: number;
  council_id: number;
  title: string;
  session_name: string;
  location: string;
  starts_at: string | null;
  status: MeetingStatus;
  quorum_rule: { num: number; den: number; strict: boolean };
}

export interface Participant {
  user_id: number;
  name: string;
  username: string;
  voting: boolean;
  attendance: string;
  invited_at: string | null;
}

export interface Problem {
  row: number;
  column: string;
  code: string;
  message: string;
}

export interface PlannedRow {
  row: number;
  name: string;
  username: string;
  role: string;
  title: string;
  email: string | null;
  action: 'create' | 'add';
}

export interface NewAccount {
  row: number;
  name: string;
  username: string;
  password: string;
}

export interface ImportReport {
  saved: boolean;
  rows: PlannedRow[];
  problems: Problem[];
  created: number;
  added: number;
  accounts: NewAccount[];
}
