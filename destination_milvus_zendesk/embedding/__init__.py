"""Embedding backends."""
