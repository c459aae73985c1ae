"""Text-to-speech: interchangeable offline engines (`registry`) behind one `resource`."""
