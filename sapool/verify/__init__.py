"""Host verification: run an int8 .tflite in TFLite's reference kernels or TFLite-Micro, compare outputs.

`interpreters.run_model` runs a model on a batch of inputs in a subprocess (a crash in an interpreter becomes an
error, not a dead sapool); `compare.compare_outputs` counts bit-exact elements and LSB differences.
"""
