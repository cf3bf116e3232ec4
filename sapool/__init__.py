"""sapool: put small CNNs with self-attentive pooling on Cortex-M microcontrollers."""

__version__ = "0.1.0"
