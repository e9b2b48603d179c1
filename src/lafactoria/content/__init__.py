"""Educational content: typed bodies, stored items and the rules for reading them."""
