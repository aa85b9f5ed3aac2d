"""quotes models."""
