"""Colour constants shared across the floors."""

# ITU-R BT.601 luma weights on R, G, B (also MATLAB's rgb2gray and OpenCV's RGB -> grey).
BT601_LUMA = (0.299, 0.587, 0.114)
