"""TF1 listings (placeholder until written)."""
