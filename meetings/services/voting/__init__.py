"""Voting: polls, their commands, the ballot box and the scrub of secret ballots."""
