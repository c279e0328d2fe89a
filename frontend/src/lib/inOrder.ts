/**
 * Answers of a read that is repeated (a poll every few seconds, a reload after each action)
 * applied in the order the reads began. Requests overtake each other: an answer read before
 * an action but arriving after the read that follows it would put the old state back on
 * screen until the next read. Each read takes a ticket first and applies its answer only if
 * the ticket says it is still the newest answered.
 *
 *   const reads = inOrder();
 *   async function load() {
 *     const fresh = reads.begin();
 *     const answer = await api.get(…);
 *     if (!fresh()) return; // a later read was already shown
 *     state = answer;
 *   }
 */
export interface InOrder {
  /** A ticket for a read beginning now: call it once the answer is in; `false` means drop it. */
  begin(): () => boolean;
}

export function inOrder(): InOrder {
  let begun = 0;
  let applied = 0;
  return {
    begin() {
      const run = ++begun;
      return () => {
        if (run < applied) return false;
        applied = run;
        return true;
      };
    },
  };
}
