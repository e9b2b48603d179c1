"""La Factoria: a GraphQL API that generates educational content."""

__version__ = "0.1.0"
