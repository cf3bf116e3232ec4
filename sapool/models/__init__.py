"""Networks and pooling layers (torch). Import torch lazily: only training/compile commands need it."""
