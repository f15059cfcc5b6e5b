"""Bodies of the native API's webhook endpoints (/api/v1/webhooks), as pydantic models: what an
account sends to add one, and what it reads back (an endpoint with its health, a delivery given
up). Shapes only; the gateway (gateway/webhook_setup.py) checks URLs, events and secrets."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from smsgate.gateway.webhook_setup import MAX_DEAD_LETTERS

from .models import MAX_URL, Text

DeliveryId = Annotated[str, Field(pattern=r"^[0-9]{1,18}$")]
EventType = Literal["message.status", "message.status.all", "message.inbound"]


class WebhookBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Text = Field(
        min_length=1,
        max_length=MAX_URL,
        description="The http(s) URL the events are POSTed to, signed (Standard Webhooks). "
        "Loopback and private addresses are refused unless the gateway allows them.",
    )
    events: list[EventType] | None = Field(
        default=None,
        min_length=1,
        max_length=3,
        description="The event types to send (default message.status): message.status (a "
        "message's final status), message.status.all (every change), message.inbound (an SMS "
        "received for the account).",
    )
    secret: Text | None = Field(
        default=None,
        max_length=200,
        description="A whsec_ signing secret of your own; a new one is made when absent.",
    )


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[str]
    enabled: bool = Field(description="False after a day of failed deliveries, until enabled.")
    rotating: bool = Field(description="Signed with the previous secret too, until finished.")
    created_at: datetime
    failing_since: datetime | None = Field(description="The first failure since a success.")
    disabled_at: datetime | None
    disabled_reason: str | None
    secret: str | None = Field(
        default=None,
        description="The signing secret: only in the answers that make one (add, "
        "rotate-secret). Keep it; it is not shown again.",
    )


class WebhookList(BaseModel):
    webhooks: list[WebhookOut] = Field(description="In the order they were added.")


class FailedDeliveryOut(BaseModel):
    id: str
    endpoint_id: str | None
    webhook_id: str | None = Field(description="The event's webhook-id, the same when redelivered.")
    type: str | None
    created_at: datetime
    dead_at: datetime
    attempts: int
    last_error: str | None


class FailedDeliveries(BaseModel):
    deliveries: list[FailedDeliveryOut] = Field(description="Oldest first.")


class RedeliverBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[DeliveryId] | None = Field(
        default=None,
        max_length=MAX_DEAD_LETTERS,
        description="The failed deliveries to send again; every one when absent.",
    )


class Redelivered(BaseModel):
    redelivered: list[str]
