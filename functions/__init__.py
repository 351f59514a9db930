"""Code that runs outside Lambda: the model container."""
