"""The one exception the SMPP codec raises: a PDU that cannot be decoded or encoded.

It carries the command_status a peer should be answered with; the session, not the codec,
decides whether that answer is a generic_nack or an error response.
"""

from __future__ import annotations


class PduError(Exception):
    def __init__(
        self,
        command_status: int,
        message: str,
        command_id: int | None = None,
        sequence_number: int | None = None,
    ) -> None:
        super().__init__(message)
        self.command_status = command_status
        self.message = message
        self.command_id = command_id
        self.sequence_number = sequence_number

    def __repr__(self) -> str:
        return (
            f"PduError(command_status=0x{self.command_status:02X}, message={self.message!r}, "
            f"command_id={self.command_id!r}, sequence_number={self.sequence_number!r})"
        )
