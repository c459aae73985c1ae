"""Web sandboxes: local copies of platforms' web pages (login, upload, profile) for browser automation.

Like the API sandboxes beside them they import nothing of the product: they follow the real pages'
structure and behaviour, so that the browser uploader's flow data can be wrong about them and be caught.
"""
