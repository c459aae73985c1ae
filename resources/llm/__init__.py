"""Language models behind the OpenAI chat-completions protocol: `client` (pure) and `resource`."""
