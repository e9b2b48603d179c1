"""Database adapters: engine construction, column types and the unit-of-work factory."""
