"""Graph rewrites, between reading a model (sapool.ir) and planning it (sapool.memory).

`fc_as_conv` rewrites the exported .tflite itself (every interpreter then rounds FULLY_CONNECTED alike);
`fold_pad` rewrites the Graph before planning, so it applies to any .tflite, third-party ones included.
"""
