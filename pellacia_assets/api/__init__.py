"""The REST API (FastAPI) and the editorial page: `create_app` in app.py, run by `pellacia-dist api`."""
