"""The streaming image-edit client: asyncio and httpx, no Qt.

async with ImageEditClient(ClientConfig(base_url=..., api_key=...)) as client:
    async for event in client.variants(request):
        ...  # PartialImage / CompletedImage, as soon as the bytes arrive
"""

from app.client.config import ClientConfig
from app.client.edits import ImageEditClient, prepare
from app.client.errors import ApiError, ClientError, InputError, NetworkError, ProtocolError
from app.client.retry import RetryNotice

__all__ = [
    "ApiError",
    "ClientConfig",
    "ClientError",
    "ImageEditClient",
    "InputError",
    "NetworkError",
    "ProtocolError",
    "RetryNotice",
    "prepare",
]
