"""The streaming image-edit client: asyncio and httpx, no Qt."""
