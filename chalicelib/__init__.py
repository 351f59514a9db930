"""Objektify: the application package deployed with the Chalice app."""
