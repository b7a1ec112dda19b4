"""django-tasks' RQ backend with the two settings scale-out needs: every job may be retried once
(a worker killed mid-job leaves it "started"; another worker's clean-up requeues it) and gets
``DETENTE_RQ_JOB_TIMEOUT`` seconds. Chosen by ``DETENTE_TASKS_BACKEND=rq`` (settings).
"""

from __future__ import annotations

from typing import Any

import django_rq
from django.conf import settings
from django_tasks.base import TASK_MAX_PRIORITY, Task, TaskResult, TaskResultStatus
from django_tasks.signals import task_enqueued
from django_tasks.utils import get_random_id
from django_tasks_rq.backend import Job, RQBackend, failed_callback, success_callback
from rq.callbacks import Callback
from rq.job import JobStatus, Retry

RETRIES = 1


class RetryingRQBackend(RQBackend):
    def enqueue(self, task: Task[Any, Any], args: Any, kwargs: Any) -> TaskResult[Any]:
        self.validate_task(task)
        result: TaskResult[Any] = TaskResult(
            task=task, id=get_random_id(), status=TaskResultStatus.READY, enqueued_at=None,
            started_at=None, last_attempted_at=None, finished_at=None, args=args, kwargs=kwargs,
            backend=self.alias, errors=[], worker_ids=[],
        )  # fmt: skip
        queue = django_rq.get_queue(task.queue_name, job_class=Job)
        job = queue.create_job(
            task.module_path,
            args=args,
            kwargs=kwargs,
            job_id=result.id,
            status=JobStatus.SCHEDULED if task.run_after else JobStatus.QUEUED,
            on_failure=Callback(failed_callback),
            on_success=Callback(success_callback),
            meta={"backend_name": self.alias},
            retry=Retry(max=RETRIES),
            timeout=settings.DETENTE_RQ_JOB_TIMEOUT,
        )
        if task.run_after is None:
            job = queue.enqueue_job(job, at_front=task.priority == TASK_MAX_PRIORITY)
        else:
            job = queue.schedule_job(job, task.run_after)
        object.__setattr__(result, "enqueued_at", job.enqueued_at)
        task_enqueued.send(type(self), task_result=result)
        return result
