"""channels models."""
