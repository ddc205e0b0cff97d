"""trio-sse: a Trio-native Server-Sent Events client.

Three tiers, one vocabulary:

- :func:`open_event_stream`: an async context manager that owns its pump task;
- :func:`pump_events`: the same pump, for ``nursery.start`` in a nursery you own;
- :class:`SSEDecoder`: the sans-IO decoder underneath, bytes in, events out.

Events are :class:`httpx_sse.ServerSentEvent` objects; errors derive from
:class:`SSEError` (itself an :class:`httpx_sse.SSEError`).
"""

from httpx_sse import ServerSentEvent as ServerSentEvent

from ._decoder import DEFAULT_MAX_EVENT_SIZE as DEFAULT_MAX_EVENT_SIZE
from ._decoder import SSEDecoder as SSEDecoder
from ._errors import ContentTypeError as ContentTypeError
from ._errors import EventTooLargeError as EventTooLargeError
from ._errors import IdleTimeoutError as IdleTimeoutError
from ._errors import NetworkError as NetworkError
from ._errors import ResponseError as ResponseError
from ._errors import RetriesExhaustedError as RetriesExhaustedError
from ._errors import SSEError as SSEError
from ._errors import StatusError as StatusError
from ._event_stream import EventStream as EventStream
from ._event_stream import StreamStatistics as StreamStatistics
from ._fan_out import FanOutChannel as FanOutChannel
from ._http import AsyncHTTPClient as AsyncHTTPClient
from ._http import AsyncHTTPResponse as AsyncHTTPResponse
from ._names import claim_public_names
from ._pump import DEFAULT_MAX_BUFFER_SIZE as DEFAULT_MAX_BUFFER_SIZE
from ._pump import DEFAULT_RETRY_POLICY as DEFAULT_RETRY_POLICY
from ._pump import pump_events as pump_events
from ._retry import DEFAULT_RETRY_STATUSES as DEFAULT_RETRY_STATUSES
from ._retry import RetryPolicy as RetryPolicy
from ._stream import open_event_stream as open_event_stream

__all__ = [
    "DEFAULT_MAX_BUFFER_SIZE",
    "DEFAULT_MAX_EVENT_SIZE",
    "DEFAULT_RETRY_POLICY",
    "DEFAULT_RETRY_STATUSES",
    "AsyncHTTPClient",
    "AsyncHTTPResponse",
    "ContentTypeError",
    "EventStream",
    "EventTooLargeError",
    "FanOutChannel",
    "IdleTimeoutError",
    "NetworkError",
    "ResponseError",
    "RetriesExhaustedError",
    "RetryPolicy",
    "SSEDecoder",
    "SSEError",
    "ServerSentEvent",
    "StatusError",
    "StreamStatistics",
    "open_event_stream",
    "pump_events",
]

__version__ = "0.1.0"


claim_public_names(globals(), __all__)
