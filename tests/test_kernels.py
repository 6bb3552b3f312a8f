"""The kernel client's ready check (ntm_lib.run.kernels.ReadyClient), against
scripted channels: the same checks as jupyter_client's, without idle waits."""
from __future__ import annotations

import asyncio
from queue import Empty

import pytest

from ntm_lib.run.kernels import ReadyClient


class _Channel:
    def __init__(self, script):
        self.script = list(script)
        self.waits: list[float] = []

    async def get_msg(self, timeout=None):
        self.waits.append(timeout)
        if not self.script:
            raise Empty
        item = self.script.pop(0)
        if item is Empty:
            raise Empty
        return item


_REPLY = {"msg_type": "kernel_info_reply", "content": {"protocol_version": "5.3"}}
_STATUS = {"msg_type": "status", "content": {"execution_state": "idle"}}


def _client(shell, iopub, alive=True):
    client = ReadyClient()
    sent = []
    client.kernel_info = lambda: sent.append("kernel_info")
    channels = {"shell": _Channel(shell), "iopub": _Channel(iopub)}

    async def is_alive():
        return alive

    client.is_alive = is_alive
    return client, channels, sent


@pytest.fixture
def patched(monkeypatch):
    def make(shell, iopub, alive=True):
        client, channels, sent = _client(shell, iopub, alive)
        monkeypatch.setattr(ReadyClient, "shell_channel", property(lambda self: channels["shell"]))
        monkeypatch.setattr(ReadyClient, "iopub_channel", property(lambda self: channels["iopub"]))
        return client, channels, sent
    return make


def test_ready_at_the_first_reply_and_status(patched):
    client, channels, sent = patched([_REPLY], [_STATUS, _STATUS])
    asyncio.run(client.wait_for_ready(timeout=5))
    assert sent == ["kernel_info"]
    # one status to know IOPub is live, the other drained, then 20 ms of quiet
    assert channels["iopub"].waits == [0.1, 0.02, 0.02]


def test_asks_again_while_iopub_is_not_subscribed(patched):
    client, channels, sent = patched([_REPLY, _REPLY], [Empty, _STATUS])
    asyncio.run(client.wait_for_ready(timeout=5))
    assert sent == ["kernel_info", "kernel_info"]


def test_a_dead_kernel_is_reported(patched):
    client, _channels, _sent = patched([Empty], [], alive=False)
    with pytest.raises(RuntimeError, match="died before replying"):
        asyncio.run(client.wait_for_ready(timeout=5))


def test_a_silent_kernel_times_out(patched):
    client, _channels, sent = patched([], [])
    with pytest.raises(RuntimeError, match="didn't respond in 0 seconds"):
        asyncio.run(client.wait_for_ready(timeout=0))
    assert sent == ["kernel_info"]


def test_the_kernel_forker_readies_number_formats_and_the_prose_environment():
    """What every %%report cell of a forked kernel would do first (Babel's
    ``vi`` data, the layouts' Jinja environment) is done once in the forker."""
    from babel import localedata

    from ntm_lib.batch import zygote
    from ntm_lib.notebook import prose
    from ntm_lib.paths import notebooks_dir

    prose.environment.cache_clear()
    zygote._warm_text()
    assert prose.environment.cache_info().currsize == 1
    prose.environment(str(notebooks_dir() / "layouts"))  # the key a report's cells use
    assert prose.environment.cache_info().hits == 1
    assert "vi" in localedata._cache
