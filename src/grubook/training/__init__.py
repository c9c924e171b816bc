"""Training: Keras models, seeded training loops, one training run of each kind, probes of trained
models (gradients, gates), the sunspot forecaster, the article's own example."""
