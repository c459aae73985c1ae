"""The fallback chain (DESIGN.md 7): a platform account's posts go out through the first path that works."""
