"""The comparison baselines: input, classical, sequential, dip, pix2pix (one module per family)."""
