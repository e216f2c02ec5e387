"""Shared infrastructure at the bottom floor (see tests/test_layering.py): atomic file writes and
digests (:mod:`.files`), the third-party weight cache (:mod:`.weights`), compute devices
(:mod:`.device`), peak-memory probes (:mod:`.memory`), colour constants (:mod:`.colour`) and the
named registries every floor above uses (:mod:`.registry`)."""
