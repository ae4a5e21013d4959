"""UZI certificates: parse the UZI-register fields, verify the chain (docs/uzi.md)."""
