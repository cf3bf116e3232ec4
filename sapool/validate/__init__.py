"""`sapool validate`: any model (checkpoint, .pt2, .onnx, int8 .tflite) scored on labelled data, float vs int8."""
