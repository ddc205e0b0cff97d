"""``python -m trio_sse._examples``: write the example files anew from their messages."""

from . import write_all

write_all()
