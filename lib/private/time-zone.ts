/**
 * Why `zone` is not an IANA time zone name as Kubernetes reads it, or `undefined`. The API server
 * loads a CronJob's time zone from the tz database by its exact, case-sensitive name; Node's
 * Intl is the database here, but it also takes "europe/berlin", so a name must match the case
 * of the database's own. Completes "got <zone>; ...".
 */
export function timeZoneProblem(zone: string): string | undefined {
  // Every model's autoscaler and every environment's backup asks about the same few zones, and
  // each Intl.DateTimeFormat costs a tz database lookup: one answer per zone name.
  if (!ZONE_PROBLEMS.has(zone)) ZONE_PROBLEMS.set(zone, zoneProblemOf(zone));
  return ZONE_PROBLEMS.get(zone);
}

const ZONE_PROBLEMS = new Map<string, string | undefined>();

function zoneProblemOf(zone: string): string | undefined {
  const usage = 'must be an IANA time zone such as "Etc/UTC" or "Europe/Berlin"';
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return usage;
  }
  const miscased = zone !== resolved && zone.toLowerCase() === resolved.toLowerCase();
  if (miscased || !zone.split('/').every((segment) => /^[A-Z]/.test(segment))) {
    return `${usage}, spelt as the tz database does${miscased ? ` ("${resolved}")` : ''}`;
  }
  return undefined;
}
