"""Group template registry: coordinator-signed template versions, stored opaquely."""
