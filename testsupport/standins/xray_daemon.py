"""The X-Ray daemon's UDP port: frames of a ``{"format": "json", "version": 1}`` header line, then the segment.

With ``forward_to`` it stands between the SDK and the real daemon (or the
collector's ``awsxray`` receiver), passing every frame on unchanged.

Each segment is held to X-Ray's segment document schema (``segment_document``);
``assert_segments_valid()`` fails naming each field a document got wrong.
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from typing import Any

from testsupport.standins.segment_document import segment_problems


def all_subsegments(entity: dict[str, Any]) -> list[dict[str, Any]]:
    """Every subsegment under an X-Ray segment or subsegment, at any depth."""
    found = []
    for child in entity.get("subsegments", []):
        found.append(child)
        found.extend(all_subsegments(child))
    return found


@dataclass
class XRayDaemon:
    """A UDP socket on loopback that decodes X-Ray daemon frames; with ``decode=False`` only counts them."""

    segments: list[dict[str, Any]] = field(default_factory=list)
    bad_frames: int = 0
    invalid_segments: list[str] = field(default_factory=list)
    decode: bool = True
    frames: int = 0
    # "host:port" of the real reader of the frames (the daemon, the collector's awsxray receiver): each frame is
    # passed on to it unchanged, so a test keeps what the SDK sent beside what reached X-Ray.
    forward_to: str | None = None

    def __post_init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.settimeout(0.1)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, daemon=True)

    @property
    def address(self) -> str:
        """``127.0.0.1:<port>``, as XRAY_DAEMON_ADDRESS takes it."""
        host, port = self._socket.getsockname()
        return f"{host}:{port}"

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                frame, _ = self._socket.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            self.frames += 1
            if self.forward_to is not None:
                host, _, port = self.forward_to.rpartition(":")
                self._socket.sendto(frame, (host, int(port)))
            if not self.decode:
                continue
            header, _, document = frame.partition(b"\n")
            try:
                if json.loads(header) != {"format": "json", "version": 1}:
                    raise ValueError(header)
                segment = json.loads(document)
                problems = segment_problems(segment)
                with self._lock:
                    self.segments.append(segment)
                    self.invalid_segments.extend(f"UDP frame {self.frames}: {problem}" for problem in problems)
            except ValueError:
                self.bad_frames += 1

    def segments_of(self, trace_id: str) -> list[dict[str, Any]]:
        """The segments received so far of X-Ray trace ``trace_id`` (``1-...``)."""
        with self._lock:
            return [s for s in self.segments if s.get("trace_id") == trace_id]

    def assert_segments_valid(self) -> None:
        """Fail, naming each field, if a segment received broke X-Ray's segment document schema."""
        with self._lock:
            invalid = list(self.invalid_segments)
        assert not invalid, "segment documents off X-Ray's schema:\n" + "\n".join(invalid)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._socket.close()
