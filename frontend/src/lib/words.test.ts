import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '$lib/api';
import { errorText } from '$lib/desk/meetingPages';
import { deskError } from '$lib/desk/errors';
import { signingError } from '$lib/signing/errors';
import { m } from '$lib/paraglide/messages.js';
import { overwriteGetLocale } from '$lib/paraglide/runtime.js';
import { say, wordsOf, type Words } from './words';

let locale: 'vi' | 'en' = 'vi';
overwriteGetLocale(() => locale);
afterEach(() => {
  locale = 'vi';
});

describe('a message kept as words follows a language switch', () => {
  it('says nothing for no message', () => {
    expect(say(null)).toBe('');
    expect(say(undefined)).toBe('');
  });

  it('says a refusal again in the language of the moment', () => {
    const cases: Words[] = [
      wordsOf(new ApiError(409, 'has_children', 'server words'), errorText),
      wordsOf(new ApiError(409, 'username_taken', 'server words'), deskError),
      wordsOf(new ApiError(403, 'reauth_failed', 'server words'), signingError),
      () => m.desk_agenda_title_required(),
    ];
    const vi = cases.map(say);
    locale = 'en';
    const en = cases.map(say);
    expect(vi[2]).toContain('Mật khẩu không đúng');
    expect(en[2]).toContain('Wrong password');
    en.forEach((text, i) => {
      expect(text).not.toBe(vi[i]);
      expect(text.length).toBeGreaterThan(5);
    });
    locale = 'vi';
    expect(cases.map(say)).toEqual(vi);
  });

  it('keeps the details of the refusal it was made from', () => {
    const words = wordsOf(new ApiError(409, 'item_in_use', '', { polls: 2 }), errorText);
    expect(say(words)).toContain('2');
    locale = 'en';
    expect(say(words)).toContain('2');
  });
});
