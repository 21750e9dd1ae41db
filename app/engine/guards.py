"""The limits that keep the engine answering under abuse: how many connections it holds, how
long a client may take to send its request, how much work runs at once and how many bytes
of uploads are in flight. One frozen record, settable in ``create_app`` (tests set short
deadlines) and from ``retouch serve``'s flags.
"""

from __future__ import annotations

import resource
from dataclasses import dataclass

FILES_PER_REQUEST = 18  # 16 images, a mask and one more: the most a request spools at once
RESERVED_FILES = 64  # the listening socket, logs, libraries, the worker threads' own files
# asyncio accepts up to its backlog of connections in one go, before any is looked at (and
# then counted): that many files must be free beyond the cap. (Past the limit, asyncio's
# accept loop also schedules one retry per remaining try: the engine must never get there.)
ACCEPT_BATCH = 128
DEFAULT_CONNECTIONS = 1000


@dataclass(frozen=True)
class Guards:
    """``max_connections``: open connections held at once (None: below the open-file
    limit, at most 1,000); when full, the oldest idle one is closed to
    make room. ``header_timeout``: seconds for a request's head to arrive, from the
    connection (or the previous answer) on. ``body_timeout`` + received bytes /
    ``body_min_rate``: seconds a request's body may take to arrive, counting only the time
    the engine waits for it; ``body_idle_timeout``: the longest silence within a body.
    ``max_work``: edits worked on at once (None: one per worker thread); ``max_queue``:
    edits waiting for a turn before 429; ``max_inflight_bytes``: the uploads' declared
    bytes admitted at once (None: one largest request)."""

    max_connections: int | None = None
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    body_min_rate: int = 256 * 1024
    body_idle_timeout: float = 15.0
    max_work: int | None = None
    max_queue: int = 32
    max_inflight_bytes: int | None = None

    def connection_cap(self, work: int) -> int:
        """The connections to hold: the setting, never above what the open-file limit
        leaves after the files that ``work`` edits spool and the engine's own files."""
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft == resource.RLIM_INFINITY:
            room = DEFAULT_CONNECTIONS
        else:
            room = soft - RESERVED_FILES - ACCEPT_BATCH - FILES_PER_REQUEST * work
        wanted = self.max_connections or DEFAULT_CONNECTIONS
        return max(1, min(wanted, room))


def raise_open_file_limit() -> int:
    """Raise this process's soft open-file limit to its hard limit (a desktop session often
    starts programs at 1,024 while allowing far more). Returns the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass  # a container may refuse: keep the limit given
    return soft
