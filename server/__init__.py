"""Tandem's server: the authority, the event log and real-time fan-out.

`server.app.create_app(settings)` builds the ASGI app; `python -m server` runs it.
"""
