// What the server recorded about a capacity run, from the workflow histories themselves (server clock, the same
// for the dev server and the production stack): how long tasks waited for a worker, workflow-task timeouts, and
// how big histories grew.
import proto from '@temporalio/proto';

type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;
const { EventType, TimeoutType } = proto.temporal.api.enums.v1;

export interface HistoryFacts {
  /** ms from WorkflowTaskScheduled to WorkflowTaskStarted, one per started workflow task */
  workflowTaskWaitMs: number[];
  /** ms from ActivityTaskScheduled to the first attempt's ActivityTaskStarted */
  activityWaitMs: number[];
  /** WorkflowTaskTimedOut events: START_TO_CLOSE (a worker held the task too long) and SCHEDULE_TO_START (a sticky
   * task nobody picked up in time, then moved to the normal queue) */
  wftTimeouts: { startToClose: number; scheduleToStart: number };
  events: number;
}

const ms = (t: HistoryEvent['eventTime']) => Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);


export function historyFacts(events: HistoryEvent[]): HistoryFacts {
  const scheduledAt = new Map<number, number>();
  const facts: HistoryFacts = { workflowTaskWaitMs: [], activityWaitMs: [], wftTimeouts: { startToClose: 0, scheduleToStart: 0 }, events: events.length };
  for (const e of events) {
    const id = Number(e.eventId);
    switch (e.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        scheduledAt.set(id, ms(e.eventTime));
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED: {
        const from = scheduledAt.get(Number(e.workflowTaskStartedEventAttributes?.scheduledEventId));
        if (from !== undefined) facts.workflowTaskWaitMs.push(ms(e.eventTime) - from);
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const a = e.activityTaskStartedEventAttributes;
        // a retried activity records only its last attempt's start: the wait would include earlier attempts
        const from = scheduledAt.get(Number(a?.scheduledEventId));
        if (from !== undefined && (a?.attempt ?? 1) === 1) facts.activityWaitMs.push(ms(e.eventTime) - from);
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT: {
        const t = e.workflowTaskTimedOutEventAttributes?.timeoutType;
        if (t === TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START) facts.wftTimeouts.scheduleToStart++;
        else if (t === TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE) facts.wftTimeouts.startToClose++;
        break;
      }
    }
  }
  return facts;
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; undefined for none. */
export function percentile(values: number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
