"""The webhook outbox's deliverer: every 30 seconds, POST the deliveries that are due.

The sensor launches no run: a delivery is one short HTTP request, and the tick itself is the cheapest
place to make it. Each tick stays within Dagster's sensor time limit (deliver_due stops starting
attempts after its budget); what it could not reach waits for the next tick. Deliveries are claimed
one by one in the database, so a second deliverer (another daemon, a test) never sends one twice.
"""

from __future__ import annotations

import dagster as dg
import httpx

from pellacia_assets.webhooks.delivery import deliver_due
from resources.database.resource import DatabaseResource

USER_AGENT = "Pellacia-Webhooks/1"


@dg.sensor(
    name="webhook_deliveries",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="POSTs the due webhook deliveries (signed), retrying failed ones with backoff.",
)
def webhook_deliveries(
    context: dg.SensorEvaluationContext, database: DatabaseResource
) -> dg.SensorResult | dg.SkipReason:
    with httpx.Client(headers={"User-Agent": USER_AGENT}) as client:
        results = deliver_due(database.session_factory(), client)
    if not results:
        return dg.SkipReason("no webhook delivery due")
    for result in results:
        attempt = f"attempt {result.attempt}"
        line = f"webhook delivery {result.delivery_id} ({result.event}, {attempt}): {result.state}"
        if result.state == "delivered":
            context.log.info(line)
        else:
            context.log.warning(f"{line}: {result.error}")
    return dg.SensorResult()
