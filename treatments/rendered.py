"""Markup rendered once per distinct content, then served from this process's memory (issue 17: the
session screen's form fields and body chart were most of its time, and are the same from one request to
the next far more often than not).

The key is a digest of everything the markup is rendered from, never an id or a version: a changed
value, point, catalogue row or link is a different key and is rendered afresh, so nothing shown can be
stale, on any number of app servers. Memory is bounded (least recently used first out), per process.
"""

import hashlib
import threading
from collections import OrderedDict


class RenderedOnce:
    """A bounded memory of rendered markup by a digest of what it was rendered from."""

    def __init__(self, size):
        self.size = size
        self._rendered = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(parts):
        """A digest of `parts` (plain values: their repr is what is compared)."""
        return hashlib.blake2b(repr(parts).encode(), digest_size=20).digest()

    def get(self, parts, render):
        """The markup rendered from `parts`: remembered, or render() now (and remembered)."""
        key = self.key(parts)
        with self._lock:
            markup = self._rendered.get(key)
            if markup is not None:
                self._rendered.move_to_end(key)
                return markup
        markup = render()
        with self._lock:
            self._rendered[key] = markup
            while len(self._rendered) > self.size:
                self._rendered.popitem(last=False)
        return markup

    def clear(self):
        with self._lock:
            self._rendered.clear()

    def __len__(self):
        return len(self._rendered)
