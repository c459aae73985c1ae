"""Story sources that fetch by themselves (Reddit, feeds, video links): each a pure fetcher with its own
cursor, admitted through one gate (dedupe, approval) by its sensor and by `pellacia-dist sources poll`."""
