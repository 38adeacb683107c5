// Cron schedules as Kubernetes reads them. The API server parses a CronJob's schedule with
// robfig/cron v3's ParseStandard (pkg/apis/batch/validation), and KEDA's cron scaler uses the same
// parser, so a schedule that merely has five fields ("99 * * * *", "0 7 * * 7") can still be
// refused at apply time. This follows parser.go: five fields or a descriptor, each field a list of
// "*", "?", values, ranges and steps within the field's bounds, month and weekday names allowed.
// No npm cron library parses exactly this dialect (they differ on 7 for Sunday, seconds, "L").

interface CronField {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const FIELDS: readonly CronField[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  { name: 'day of week', min: 0, max: 6, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

/** The descriptors Kubernetes and KEDA take in place of five fields. */
const CRON_DESCRIPTORS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'] as const;

/**
 * Why `schedule` is not a standard five-field cron schedule (or, with `descriptors`, one of
 * {@link CRON_DESCRIPTORS}: CronJobs take them, KEDA's cron trigger does not), or `undefined`.
 * Completes "got <schedule>; ...".
 */
export function cronScheduleProblem(schedule: string, options: { descriptors?: boolean } = {}): string | undefined {
  const usage = `must be a cron schedule of five fields (minute hour day-of-month month day-of-week) such as "17 3 * * *"${options.descriptors ? ', or a macro such as "@daily"' : ''}`;
  if (/^(CRON_)?TZ=/.test(schedule)) return `${usage}; the time zone goes in its own field, not in the schedule`;
  if (schedule.startsWith('@')) {
    if (!options.descriptors) return `${usage}; macros such as "${schedule}" are not taken here`;
    return (CRON_DESCRIPTORS as readonly string[]).includes(schedule) ? undefined : `${usage}; "${schedule}" is not one of ${CRON_DESCRIPTORS.join(', ')}`;
  }
  const fields = schedule.trim().split(/\s+/).filter((f) => f !== '');
  if (fields.length !== 5) return `${usage}; it has ${fields.length} field${fields.length === 1 ? '' : 's'}`;
  for (let i = 0; i < 5; i++) {
    const problem = fieldProblem(fields[i], FIELDS[i]);
    if (problem) return `${usage}; the ${FIELDS[i].name} field "${fields[i]}" ${problem}`;
  }
  return undefined;
}

function fieldProblem(text: string, field: CronField): string | undefined {
  for (const part of text.split(',')) {
    const problem = rangeProblem(part, field);
    if (problem) return problem;
  }
  return undefined;
}

function rangeProblem(part: string, field: CronField): string | undefined {
  const rangeAndStep = part.split('/');
  if (rangeAndStep.length > 2) return 'has more than one "/"';
  const lowAndHigh = rangeAndStep[0].split('-');
  let start: number | undefined;
  let end: number | undefined;
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    start = field.min;
    end = field.max;
  } else {
    if (lowAndHigh.length > 2) return 'has more than one "-" in a range';
    start = value(lowAndHigh[0], field);
    end = lowAndHigh.length === 2 ? value(lowAndHigh[1], field) : start;
    if (start === undefined || end === undefined) return `must hold numbers${field.names ? ` or names (${field.names.join(', ')})` : ''}, "*", "-", "," and "/"`;
  }
  if (rangeAndStep.length === 2) {
    const step = /^\d+$/.test(rangeAndStep[1]) ? Number(rangeAndStep[1]) : undefined;
    if (step === undefined || step === 0) return 'has a step that is not a positive number';
    // "N/step" means from N to the field's maximum.
    if (lowAndHigh.length === 1 && lowAndHigh[0] !== '*' && lowAndHigh[0] !== '?') end = field.max;
  }
  if (start < field.min) return `starts below ${field.min}`;
  if (end > field.max) return `goes above ${field.max}`;
  if (start > end) return `has a range that starts after it ends`;
  return undefined;
}

function value(text: string, field: CronField): number | undefined {
  const named = field.names?.indexOf(text.toLowerCase()) ?? -1;
  if (named !== -1) return named + field.min;
  return /^\d+$/.test(text) ? Number(text) : undefined;
}
