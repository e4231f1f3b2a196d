"""Policy sources (RSS/Atom, JSON, local folder): see the 送政策 feature."""
