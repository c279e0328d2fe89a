/**
 * The meeting the desk's tabs are about (`/desk/meetings/[id]/…`): loaded once by the tab
 * layout, refreshed by a page that changes it, so the heading above the tabs stays true.
 */
import { api } from '$lib/api';
import type { Meeting } from './types';

class DeskMeeting {
  meeting = $state<Meeting | null>(null);
  failed = $state(false);

  async load(id: number): Promise<void> {
    this.failed = false;
    if (this.meeting?.id !== id) this.meeting = null;
    try {
      this.meeting = await api.get<Meeting>(`/api/meetings/${id}`);
    } catch {
      this.failed = true;
    }
  }

  set(meeting: Meeting): void {
    this.meeting = meeting;
  }
}

export const deskMeeting = new DeskMeeting();
