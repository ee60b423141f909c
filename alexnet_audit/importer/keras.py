"""Keras listings (placeholder until written)."""
