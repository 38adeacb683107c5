import { describe, expect, it } from 'vitest';
import { cronScheduleProblem } from '../lib/private/cron';

// Schedules as robfig/cron's ParseStandard reads them: the API server's parser for CronJobs and
// KEDA's for its cron trigger.

describe('cronScheduleProblem', () => {
  it.each([
    '17 3 * * *', '*/15 * * * *', '0 7 * * 1-5', '0 0 1,15 * *', '0 0 * jan-mar mon', '5-59/10 * * * *', '0 12 ? * SUN', '30 2 31 12 6', '0 0 * * 0',
  ])('accepts %s', (schedule) => {
    expect(cronScheduleProblem(schedule)).toBeUndefined();
  });

  it.each([
    ['99 * * * *', 'the minute field "99" goes above 59'],
    ['0 24 * * *', 'the hour field "24" goes above 23'],
    ['0 0 0 * *', 'the day of month field "0" starts below 1'],
    ['0 0 * 13 *', 'the month field "13" goes above 12'],
    ['0 7 * * 7', 'the day of week field "7" goes above 6'],
    ['0 7 * * 5-1', 'has a range that starts after it ends'],
    ['*/0 * * * *', 'has a step that is not a positive number'],
    ['a b c d e', 'must hold numbers, "*", "-", "," and "/"'],
    ['0 7 * * mon-fri-sat', 'has more than one "-" in a range'],
    ['0 7 * *', 'it has 4 fields'],
    ['TZ=Europe/Berlin 0 7 * * *', 'the time zone goes in its own field'],
    ['@daily', 'macros such as "@daily" are not taken here'],
  ])('refuses %s', (schedule, problem) => {
    expect(cronScheduleProblem(schedule)).toContain(problem);
  });

  it('takes the descriptors only where they are allowed (CronJobs, not KEDA)', () => {
    expect(cronScheduleProblem('@daily', { descriptors: true })).toBeUndefined();
    expect(cronScheduleProblem('@every 5m', { descriptors: true })).toContain('is not one of @yearly');
  });
});
