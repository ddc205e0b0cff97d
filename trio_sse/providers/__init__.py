"""Provider streams as one neutral vocabulary.

Each provider format has a sans-IO interpreter in a module of its own
(:mod:`trio_sse.providers.anthropic`, ``.openai_chat``, ``.openai_responses``, ``.gemini``),
each with an ``Interpreter`` class; they all speak the vocabulary exported here. The Trio
side is :func:`interpret_events`, a consumer task that runs beside the pump, and
:func:`open_provider_stream`, which builds a provider's request and runs both.
"""

from .._names import claim_public_names
from ._consumer import ProviderStream as ProviderStream
from ._consumer import interpret_events as interpret_events
from ._consumer import open_provider_stream as open_provider_stream
from ._errors import APIStreamError as APIStreamError
from ._errors import IncompleteStreamError as IncompleteStreamError
from ._errors import InterruptedStreamError as InterruptedStreamError
from ._errors import MalformedEventError as MalformedEventError
from ._errors import ProviderError as ProviderError
from ._errors import ProviderStatusError as ProviderStatusError
from ._errors import StalledStreamError as StalledStreamError
from ._interpreter import Interpreter as Interpreter
from ._request import ANTHROPIC_VERSION as ANTHROPIC_VERSION
from ._request import ProviderName as ProviderName
from ._vocabulary import ContentBlock as ContentBlock
from ._vocabulary import Message as Message
from ._vocabulary import MessageStart as MessageStart
from ._vocabulary import MessageStop as MessageStop
from ._vocabulary import OtherBlock as OtherBlock
from ._vocabulary import StreamEvent as StreamEvent
from ._vocabulary import TextBlock as TextBlock
from ._vocabulary import TextDelta as TextDelta
from ._vocabulary import ThinkingBlock as ThinkingBlock
from ._vocabulary import ThinkingDelta as ThinkingDelta
from ._vocabulary import Tool as Tool
from ._vocabulary import ToolCall as ToolCall
from ._vocabulary import ToolCallDelta as ToolCallDelta
from ._vocabulary import ToolCallEnd as ToolCallEnd
from ._vocabulary import ToolCallStart as ToolCallStart
from ._vocabulary import ToolOutput as ToolOutput
from ._vocabulary import Usage as Usage
from ._vocabulary import UsageUpdate as UsageUpdate

__all__ = [
    "ANTHROPIC_VERSION",
    "APIStreamError",
    "ContentBlock",
    "IncompleteStreamError",
    "Interpreter",
    "InterruptedStreamError",
    "MalformedEventError",
    "Message",
    "MessageStart",
    "MessageStop",
    "OtherBlock",
    "ProviderError",
    "ProviderName",
    "ProviderStatusError",
    "ProviderStream",
    "StalledStreamError",
    "StreamEvent",
    "TextBlock",
    "TextDelta",
    "ThinkingBlock",
    "ThinkingDelta",
    "Tool",
    "ToolCall",
    "ToolCallDelta",
    "ToolCallEnd",
    "ToolCallStart",
    "ToolOutput",
    "Usage",
    "UsageUpdate",
    "interpret_events",
    "open_provider_stream",
]


claim_public_names(globals(), __all__)
