"""Answers of /api/v1/events and /api/v1/inbound, as pydantic models for the OpenAPI document
(replay.py writes the JSON itself, in these shapes)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class EventOut(BaseModel):
    seq: int = Field(description="The account's own numbering: 1, 2, 3 ... without gaps.")
    type: str = Field(
        description="accepted, submitted, refused, receipt, expired, cancelled, refunded or "
        "received (an inbound SMS)."
    )
    at: float = Field(description="When, in seconds since the Unix epoch.")
    message_id: int | None = Field(description="The message's id; null for an inbound SMS.")
    part_id: int | None
    data: dict[str, Any] | None = Field(description="The type's details, if any.")


class EventPage(BaseModel):
    events: list[EventOut] = Field(description="Oldest first.")
    next_after: int = Field(description="Pass as `after` for the next page.")


class InboundOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: int
    from_: str = Field(alias="from", description="The phone that sent it.")
    to: str = Field(description="The number it was sent to.")
    text: str
    keyword: str | None = Field(description="The keyword that routed it to the account.")
    parts: int = Field(description="Parts received.")
    total: int = Field(description="Parts the message has.")
    complete: bool
    received_at: float = Field(description="Seconds since the Unix epoch.")


class InboundPage(BaseModel):
    data: list[InboundOut] = Field(description="Oldest first.")
    next_after: int = Field(description="Pass as `after` for the next page.")
