"""GraphQL object types, each built from a domain object with ``from_model``."""
