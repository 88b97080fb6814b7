"""Redis killed (``SIGKILL``) and restarted mid-minute, with docker-compose.yml's Redis settings
(``faults.compose``), under a professional tenant's 60 requests a minute.

One client spends part of the window at about ``RATE`` requests a second, Redis is killed right
after an answer and started again on the same data directory, and the client then sends until
the first 429. With the append-only file the window admits at most 60 plus what Redis had not
yet written when it died (at most about the last second of counts); without it (the compose
file before issue 13) it admitted 60 more on top of what was spent.
"""

from __future__ import annotations

import http.client
import time
from dataclasses import dataclass

from faults.compose import redis_server_args
from faults.harness import Row, Stack

LIMIT = 60  # the professional plan, per minute
SPENT = 30
RATE = 10.0  # requests a second while spending
# Enough of the window left for spending, the restart and the rest of the window's budget.
NEEDED_SECONDS = 10


@dataclass(frozen=True)
class Answer:
    status: int
    reset: str  # X-RateLimit-Reset: which minute window counted it
    at: float  # time.monotonic() when the answer arrived


class Client:
    """One keep-alive ERP client on /api/v1/me with the stack's token."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)

    def me(self) -> Answer:
        headers = {"Host": self.stack.host, "Authorization": f"Bearer {self.stack.admin_token}"}
        try:
            self.conn.request("GET", "/api/v1/me", headers=headers)
            response = self.conn.getresponse()
        except (OSError, http.client.HTTPException):  # the server closed the keep-alive
            self.conn.close()
            self.conn.request("GET", "/api/v1/me", headers=headers)
            response = self.conn.getresponse()
        response.read()
        return Answer(
            response.status, response.getheader("X-RateLimit-Reset", ""), time.monotonic()
        )


def run(quick: bool) -> Row:
    with Stack(workers=4, redis_args=redis_server_args()) as stack:
        stack.sql("UPDATE public.tenancy_tenant SET plan = 'professional' WHERE schema_name = %s",
                  stack.schema)  # fmt: skip
        client = Client(stack)
        first = client.me()
        if int(first.reset) - time.time() < NEEDED_SECONDS:  # start in a fresh window
            time.sleep(max(0.0, int(first.reset) - time.time()) + 0.5)
            first = client.me()
        window = first.reset
        answers = [first]
        while len(answers) < SPENT:
            time.sleep(1 / RATE)
            answers.append(client.me())
        killed_at = time.monotonic()
        stack.redis.restart(hard=True)  # SIGKILL, then redis-server again on its directory
        restarted_in = time.monotonic() - killed_at
        while answers[-1].status != 429 and len(answers) < 3 * LIMIT:
            answers.append(client.me())
    spent = [a for a in answers if a.at <= killed_at]
    after = [a for a in answers if a.at > killed_at]
    admitted = sum(1 for a in answers if a.status == 200 and a.reset == window)
    last_second = sum(1 for a in spent if a.status == 200 and a.at > killed_at - 1.0)
    refused = after[-1].status == 429 if after else False
    return Row(
        fault=(
            f"Redis killed (SIGKILL) and restarted mid-minute with the compose settings, "
            f"professional plan ({LIMIT}/min), {RATE:.0f} req/s before the kill"
        ),
        measured=(
            f"the window admitted {admitted}: {sum(a.status == 200 for a in spent)} before the "
            f"kill, {sum(a.status == 200 for a in after)} after (Redis back in "
            f"{restarted_in:.2f} s), then 429; {last_second} counted in the last second before "
            f"the kill"
        ),
        requirement=f"<= {LIMIT} + the last second's counts, then 429",
        ok=refused and admitted <= LIMIT + last_second and all(a.reset == window for a in after),
    )
