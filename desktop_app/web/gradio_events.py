"""Which session started each Gradio event.

Gradio makes event ids (uuid4) and answers anyone who names one: its result
stream, its input stream, its cancel. The shell answers only the session that
started it (GradioShield records the id from Gradio's answer to queue/join or
call/). Bounded per session, so one that starts thousands evicts only its own
oldest, and in all, so a flood of sessions evicts the longest idle.
"""

from __future__ import annotations

import collections
import re

# GET call/{api_name}/{event_id} streams an event's result; POST stream/{event_id}[/close] feeds it.
EVENT_ROUTE = re.compile(r"^/gradio_api/(call(?:/v2)?/[^/]+|stream)/([^/]+)(?:/close)?/?$")
MAX_EVENTS_PER_SESSION = 200  # ~30 KB a session; a page starts a few events a minute
MAX_SESSIONS_WITH_EVENTS = 2_000


class EventOwners:
    def __init__(self) -> None:
        # session -> its event ids, each oldest first
        self._events: collections.OrderedDict[str, collections.OrderedDict[str, None]] = collections.OrderedDict()

    def started(self, event_id: str, session_id: str) -> None:
        mine = self._events.setdefault(session_id, collections.OrderedDict())
        self._events.move_to_end(session_id)
        mine[event_id] = None
        while len(mine) > MAX_EVENTS_PER_SESSION:  # oldest first: long finished by then
            mine.popitem(last=False)
        while len(self._events) > MAX_SESSIONS_WITH_EVENTS:
            self._events.popitem(last=False)

    def owns(self, session_id: str, event_id: object) -> bool:
        return isinstance(event_id, str) and event_id in self._events.get(session_id, {})
