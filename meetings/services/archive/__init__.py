"""The archive: resolutions, minutes, signing keys and sessions, archived records and their
checks."""
