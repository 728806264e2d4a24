"""Websocket handshakes that cannot be served are refused cleanly, never a 500."""

from __future__ import annotations

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("path", ["/ws/no-such-thing/", "/", "/ws/notifications/extra/x"])
def test_unknown_path_is_refused_at_the_handshake(live_server_url: str, path: str) -> None:
    """An unknown path answers 403 at the handshake (the last route refuses it), no error."""
    with pytest.raises(InvalidStatus) as refused:
        connect(
            live_server_url.replace("http://", "ws://") + path,
            additional_headers={"Origin": live_server_url},
            open_timeout=15,
        )
    assert refused.value.response.status_code == 403
