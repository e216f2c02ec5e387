"""Shared infrastructure at the bottom floor: atomic file writes and digests (:mod:`.files`), the
third-party weight cache (:mod:`.weights`), devices (:mod:`.device`) and peak-memory probes (:mod:`.memory`)."""
