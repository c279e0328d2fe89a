/** The council's words for choices, outcomes and errors of a ballot (messages/ballot). */
import { m } from '$lib/paraglide/messages.js';
import type { Choice, Poll } from '$lib/realtime/types';
import { ABSTAIN, NO, YES, type Level } from './logic';

export function motionWord(option: string): string {
  if (option === YES) return m.ballot_yes();
  if (option === NO) return m.ballot_no();
  if (option === ABSTAIN) return m.ballot_abstain();
  return option;
}

export function levelWord(level: string): string {
  const words: Record<Level, () => string> = {
    high: m.ballot_confidence_high,
    medium: m.ballot_confidence_medium,
    low: m.ballot_confidence_low,
  };
  return (words as Record<string, () => string>)[level]?.() ?? level;
}

/** A count's option in words: motion options translated, candidates by name, abstain. */
export function optionWord(poll: Poll, option: string): string {
  if (poll.kind === 'motion' || option === ABSTAIN) return motionWord(option);
  return option;
}

/** A whole choice in words, as the confirm question and the "your ballot" line say it. */
export function choiceWords(poll: Poll, choice: Choice | null | undefined): string {
  if (choice == null) return '';
  if (typeof choice === 'string') {
    return poll.kind === 'election' && choice === ABSTAIN ? m.ballot_election_abstain() : motionWord(choice);
  }
  if (Array.isArray(choice)) return choice.join(', ');
  return Object.entries(choice)
    .map(([who, level]) => `${who}: ${levelWord(level)}`)
    .join('; ');
}

export function kindWord(kind: string): string {
  if (kind === 'election') return m.ballot_kind_election();
  if (kind === 'confidence') return m.ballot_kind_confidence();
  return m.ballot_kind_motion();
}

export function outcomeWord(outcome: string): string {
  const words: Record<string, () => string> = {
    adopted: m.ballot_outcome_adopted,
    rejected: m.ballot_outcome_rejected,
    elected: m.ballot_outcome_elected,
    partial: m.ballot_outcome_partial,
    tie: m.ballot_outcome_tie,
    recorded: m.ballot_outcome_recorded,
  };
  return words[outcome]?.() ?? outcome;
}

export function errorWord(code: string): string {
  const words: Record<string, () => string> = {
    offline: m.ballot_error_offline,
    poll_not_open: m.ballot_error_poll_not_open,
    not_present: m.ballot_error_not_present,
    ballot_already_cast: m.ballot_error_ballot_already_cast,
    not_voting_member: m.ballot_error_not_voting_member,
    not_participant: m.ballot_error_not_participant,
    too_many_choices: m.ballot_error_too_many_choices,
    abstain_not_allowed: m.ballot_error_abstain_not_allowed,
    receipt_required: m.ballot_error_receipt_required,
    unknown_receipt: m.ballot_error_unknown_receipt,
    timeout: m.ballot_error_timeout,
  };
  return words[code]?.() ?? m.ballot_error_other({ code });
}

/** The majority rule in words (`result.rule`: {fraction, comparison, base}); the server's
 *  `rule_text` is English only. */
export function ruleWords(rule: unknown, fallback: string): string {
  if (!rule || typeof rule !== 'object') return fallback;
  const r = rule as { fraction?: string; comparison?: string; base?: string };
  const bases: Record<string, () => string> = {
    votes_cast: m.ballot_base_votes_cast,
    valid_votes: m.ballot_base_valid_votes,
    present: m.ballot_base_present,
    members: m.ballot_base_members,
  };
  const base = r.base ? bases[r.base]?.() : undefined;
  if (!r.fraction || !base) return fallback;
  const fraction = r.fraction === '1/2' ? m.ballot_fraction_half() : r.fraction;
  return r.comparison === 'ge' ? m.ballot_rule_ge({ fraction, base }) : m.ballot_rule_gt({ fraction, base });
}
