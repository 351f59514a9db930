"""The local stack behind `make dev`: AWS emulation, the app, the event pump. Never deployed."""
