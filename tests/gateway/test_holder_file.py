"""The lease holder name a node keeps in its state directory: taken back by the next life of a
node, never shared by two live ones."""

from __future__ import annotations

from pathlib import Path

from smsgate.gateway.holder_file import HolderFile


def test_the_name_survives_a_restart_and_a_live_holder_keeps_it_to_itself(tmp_path: Path) -> None:
    path = tmp_path / "state" / "node-3.holder"
    first = HolderFile(path)
    assert first.claim("host:1:aaa") == "host:1:aaa"
    rival = HolderFile(path)  # a second live process on the same directory
    assert rival.claim("host:2:bbb") is None and rival.locked_elsewhere
    first.release()  # as the kernel does for a process killed with SIGKILL
    again = HolderFile(path)
    assert again.claim("host:3:ccc") == "host:1:aaa"
    assert not again.locked_elsewhere
    again.release()


def test_an_unusable_directory_gives_no_name_and_no_reason_to_skip_waiting(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    holder = HolderFile(blocker / "node-0.holder")
    assert holder.claim("host:1:aaa") is None
    assert not holder.locked_elsewhere
