"""Business rules. Services never see a Chalice request nor build an HTTP response."""
