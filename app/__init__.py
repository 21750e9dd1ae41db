"""Retouch Studio: a desktop editor for OpenAI-compatible image-edit APIs."""

__version__ = "0.1.0"
