"""Lambda event handlers: unpack the event, call a service, report partial batch failures."""
