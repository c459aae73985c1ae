"""Browser uploads: a platform's own web upload pages driven by Playwright and Debian's Chromium.

The layer of the fallback chain used when the API path cannot publish. `flow` reads a platform's pages
and steps from its data file, `sessions` keeps logged-in sessions encrypted, `uploader.BrowserUploader`
publishes and reconciles like a PlatformClient, `challenge` tells what state a page is in, and `config`
builds an uploader from PELLACIA_* variables.
"""
