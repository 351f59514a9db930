"""HTTP routes as Chalice blueprints: parse, authorize, call a service, shape the answer."""
