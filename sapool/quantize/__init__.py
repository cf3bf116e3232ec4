"""Post-training int8 quantisation of torch models for TFLite / TFLite-Micro (docs/quantization.md).

calibration.py (which images), annotate.py (how each op is quantised), convert.py (the litert-torch PT2E flow
and the all-int8 check), accuracy.py + layer_error.py (float vs int8 on held-out images, per layer).
"""
