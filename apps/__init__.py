"""Applications on top of the library: restoring photo files (:mod:`.restore`)."""
