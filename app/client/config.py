"""Where the client sends requests and how patient it is."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ClientConfig:
    """Connection settings for one provider. ``api_key`` is kept out of ``repr`` so it is
    never printed or logged by accident."""

    base_url: str = "https://api.openai.com"
    path: str = "/v1/images/edits"  # "/v1/image/edits" (singular) works too
    api_key: str | None = field(default=None, repr=False)
    force_image_array: bool = False  # send ``image[]`` even for one image
    connect_timeout: float = 5.0
    read_timeout: float = 600.0  # gpt-image-2 edits take 60 to 150 s
    # Once the answer has begun: the longest wait for the next image. Only images reset it,
    # not ``:`` keep-alive comments nor events of other kinds, so a server that sends only
    # those cannot hold a job forever. As patient as the read timeout is with silence: with
    # partial_images 0 the one image comes after the whole edit (60 to 150 s on gpt-image-2).
    idle_timeout: float = 600.0
    # The whole edit, from sending to the last image, retries and their waits included.
    job_timeout: float = 1800.0
    max_retries: int = 2
    # A hostile or broken server must not be able to exhaust memory.
    max_response_bytes: int = 512 * 1024 * 1024
    max_image_pixels: int = 33_177_600  # per returned image, checked on its header
    # A header naming the variant a request is for (the local engine's
    # X-Retouch-Variant), so split n=1 streams get different variants from a
    # deterministic server. Unset for other providers: nothing extra is sent.
    variant_header: str | None = None
