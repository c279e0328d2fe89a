/**
 * Sending a member list file as the raw request body (docs/features/accounts.md, "Importing a member
 * list"): `api.ts` speaks JSON only. The CSRF token and the error shape are the same.
 */
import { ApiError, readCookie } from '$lib/api';
import type { ImportReport } from './types';

export async function sendMemberList(
  councilId: number,
  file: File,
  confirm: boolean,
): Promise<ImportReport> {
  const xlsx = file.name.toLowerCase().endsWith('.xlsx');
  const params = new URLSearchParams({ filename: file.name });
  if (confirm) params.set('confirm', '1');
  const headers: Record<string, string> = {
    Accept: 'application/json',
    'Content-Type': xlsx
      ? 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
      : 'text/csv',
  };
  const csrf = readCookie('quorum_csrf');
  if (csrf) headers['X-CSRF-Token'] = csrf;
  let response: Response;
  try {
    response = await fetch(`/api/councils/${councilId}/members/import?${params}`, {
      method: 'POST',
      headers,
      credentials: 'same-origin',
      body: file,
    });
  } catch (error) {
    throw new ApiError(0, 'network', String(error));
  }
  const body = (await response.json().catch(() => null)) as
    | (ImportReport & { error?: { code: string; message: string; details?: unknown } })
    | null;
  if (!response.ok) {
    const error = body?.error;
    throw new ApiError(
      response.status,
      error?.code ?? `http_${response.status}`,
      error?.message ?? response.statusText,
      error?.details ?? null,
    );
  }
  return body as ImportReport;
}
