"""The flow data files, one per platform (`<platform>.yaml`): what resources.browser.flow loads."""
