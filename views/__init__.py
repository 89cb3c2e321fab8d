"""Flet views: render client state, dispatch intents. No business rules here:
what an action does and who may do it comes from `domain/`."""
