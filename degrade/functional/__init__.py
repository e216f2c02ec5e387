"""Pure degradation functions on uint8 arrays (numpy and OpenCV only)."""
