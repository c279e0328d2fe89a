/**
 * A message kept as a call rather than as text, so that a message shown before a language
 * switch is said again in the new language (docs/WEBAPP.md, "Languages"). Pages keep a
 * refusal or an outcome as `Words` in their state and render `say(words)` in the template.
 */
export type Words = () => string;

/** The words now, in the current language; '' when there is no message. */
export function say(words: Words | null | undefined): string {
  return words ? words() : '';
}

/** A refusal kept with its error: the words are made from the error each time they are shown. */
export function wordsOf<E>(error: E, toText: (error: E) => string): Words {
  return () => toText(error);
}
