"""Pure OR-Tools routing code for drop-and-hook dispatch; no I/O beyond reading benchmark files."""
