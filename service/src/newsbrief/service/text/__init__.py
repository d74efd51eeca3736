"""Shared text facts: normalisation, segmenting, numbers, amounts, months and scales.

Imports nothing else of the service: the pipeline and the model engines both build on it.
"""
