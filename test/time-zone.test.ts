import { describe, expect, it } from 'vitest';
import { timeZoneProblem } from '../lib/private/time-zone';

describe('timeZoneProblem', () => {
  it.each(['Etc/UTC', 'UTC', 'Europe/Berlin', 'America/Argentina/Buenos_Aires', 'Asia/Calcutta', 'US/Eastern', 'Etc/GMT+5'])('accepts %s', (zone) => {
    expect(timeZoneProblem(zone)).toBeUndefined();
  });

  it.each([
    ['Mars/Olympus', 'must be an IANA time zone'],
    ['', 'must be an IANA time zone'],
    // Intl takes these; the API server loads zones by their exact, case-sensitive name.
    ['europe/berlin', 'spelt as the tz database does ("Europe/Berlin")'],
    ['EUROPE/BERLIN', 'spelt as the tz database does ("Europe/Berlin")'],
    ['us/eastern', 'spelt as the tz database does'],
  ])('refuses %j', (zone, problem) => {
    expect(timeZoneProblem(zone)).toContain(problem);
  });
});
