"""The job queue's own upkeep: jobs whose worker died are run again; finished jobs are deleted.

A worker killed while it runs a job (``SIGKILL``, the OOM killer, a lost machine) leaves the job
in ``doing``. Every worker sends a heartbeat every 10 s; once a worker has sent none for
``STALLED_AFTER_SECONDS``, this job puts its jobs back in the queue, so another worker runs them.
A webhook delivery run twice this way carries the same ``webhook-id`` both times.
"""

from __future__ import annotations

import logging

from procrastinate import JobContext, RetryStrategy
from procrastinate.contrib.django import app

logger = logging.getLogger(__name__)

# The queue of every app's periodic upkeep, and its retries: 5 attempts, 1, 2, 4, 8 minutes apart.
MAINTENANCE = "maintenance"
MAINTENANCE_RETRY = RetryStrategy(max_attempts=5, exponential_wait=60)
STALLED_AFTER_SECONDS = 30.0


@app.periodic(cron="* * * * *", periodic_id="retry_stalled_jobs")  # every minute
@app.task(
    queue=MAINTENANCE,
    queueing_lock="retry_stalled_jobs",
    pass_context=True,
    name="queue.retry_stalled_jobs",
)
async def retry_stalled_jobs(context: JobContext, timestamp: int) -> int:
    manager = context.app.job_manager
    stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER_SECONDS))
    for job in stalled:
        await manager.retry_job(job)
        logger.warning("job queue: %s[%s] of a dead worker queued again", job.task_name, job.id)
    return len(stalled)


FINISHED_JOBS_KEPT_HOURS = 7 * 24  # a week of finished jobs (and their events) to look into


@app.periodic(cron="27 4 * * *", periodic_id="remove_old_jobs")  # daily, 04:27 UTC
@app.task(
    queue=MAINTENANCE,
    queueing_lock="remove_old_jobs",
    pass_context=True,
    name="queue.remove_old_jobs",
)
async def remove_old_jobs(context: JobContext, timestamp: int) -> None:
    """Delete jobs finished (succeeded, failed, cancelled or aborted) over a week ago: what a job
    did is kept where it matters (a webhook delivery's row, a log line), not in the queue."""
    await context.app.job_manager.delete_old_jobs(
        nb_hours=FINISHED_JOBS_KEPT_HOURS,
        include_failed=True,
        include_cancelled=True,
        include_aborted=True,
    )
