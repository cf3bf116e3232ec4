"""The bodies of `sapool compile`'s steps, one module per stage; sapool/pipeline.py lists them in order."""
