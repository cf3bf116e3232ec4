"""TFLite-Micro export: model.tflite with sapool's offline memory plan, C arrays, op resolver, arena size, app.

Entry point: `sapool.backends.tflm.export.write_tflm_export`.
"""
