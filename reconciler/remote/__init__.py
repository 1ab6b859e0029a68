"""The Waldur API: the HTTP client with its retry rules (`client`), reading the live state
(`observe`), and natural-key lookups (`lookup`)."""
