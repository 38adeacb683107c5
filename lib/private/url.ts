/** URLs go into annotations, arguments and environment variables: a longer one is a mistake. */
const MAX_URL_LENGTH = 2048;

/** What an {@link httpUrlProblem} check demands beyond an http(s) URL. */
export interface HttpUrlRules {
  /** Only https. @default false */
  readonly httpsOnly?: boolean;
  /** No "#" fragment, for a base that others append an anchor to. @default false */
  readonly noFragment?: boolean;
  /** No "user:password@" part, for a URL written into committed files and pod specs. @default false */
  readonly noCredentials?: boolean;
}

/**
 * Why `url` is not an http(s) URL that its readers (the constructs, Prometheus clients, the
 * gateways, pip) take as written, or `undefined`. A URL parser also takes "HTTP://x" and
 * "http://x/a b"; those readers do not, so the scheme must be lowercase and the URL hold no
 * spaces. `usage` completes "must be ..." when the URL is not one at all, e.g.
 * 'an http(s) URL such as "http://prometheus-operated.monitoring.svc:9090"'. The fleet file and
 * the constructs ask this one question, so they accept the same URLs. Completes "got <url>; ...".
 */
export function httpUrlProblem(url: string, usage: string, rules: HttpUrlRules = {}): string | undefined {
  if (url.length > MAX_URL_LENGTH) return `must be at most ${MAX_URL_LENGTH} characters`;
  const scheme = rules.httpsOnly ? /^https:\/\/\S+$/ : /^https?:\/\/\S+$/;
  if (!scheme.test(url) || !URL.canParse(url) || new URL(url).hostname === '') return `must be ${usage}`;
  if (rules.noCredentials && /^https?:\/\/[^/]*@/.test(url)) return 'must not carry credentials, which would be written into committed files and pod specs; use a URL that may be read without them';
  if (rules.noFragment && url.includes('#')) return 'must not have a "#" fragment; an anchor is added to it';
  return undefined;
}
