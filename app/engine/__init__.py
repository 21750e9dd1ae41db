"""The local engine: an OpenAI-compatible image-edit server that inpaints on loopback."""
