"""The HTTP surface: a thin layer whose routes call domain functions."""
