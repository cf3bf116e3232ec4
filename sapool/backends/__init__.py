"""Code generators that turn a planned Graph into source for a microcontroller."""
