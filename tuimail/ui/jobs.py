"""Failed workers: every node that runs workers forwards failures to the app in one way."""

from __future__ import annotations

from textual.message_pump import MessagePump
from textual.worker import Worker, WorkerState

from tuimail.ui.messages import JobFailed


class ReportsFailures(MessagePump):
    """Mixin: a failed worker of this node becomes a ``JobFailed`` message to the app.

    Workers run with ``exit_on_error=False``, so a failure never ends the app with a traceback;
    the app's ``on_job_failed`` is the one place that turns it into a notification and a log
    record.
    """

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Forward a failure; other state changes need nothing."""
        worker = event.worker
        if event.state == WorkerState.ERROR and worker.error is not None:
            self.app.post_message(JobFailed(worker.description or worker.name, worker.error))
