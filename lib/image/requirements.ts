import { eq as pep440Equal, valid as pep440Valid } from '@renovatebot/pep440';

// A serving image installs what its models' requirements files pin, and nothing may float: the
// image that was scanned must be the image that runs. So only exact pins are accepted, in the
// subset of pip's requirements file format that says exactly one thing.
// https://pip.pypa.io/en/stable/reference/requirements-file-format/

/** One `name==version` line of a requirements file. */
export interface PinnedRequirement {
  /** The project name as written. */
  readonly name: string;
  /** The name normalized as PEP 503 compares names: lowercase, runs of "-", "_", "." as one "-". */
  readonly key: string;
  /** Extras, e.g. `torch` in `transformers[torch]==4.46.3`, sorted. */
  readonly extras: readonly string[];
  /** The pinned version as written. */
  readonly version: string;
  /** `--hash` values, `sha256:<hex>` and the like, sorted. */
  readonly hashes: readonly string[];
  /** The file, as shown in messages. */
  readonly file: string;
  /** The line the requirement starts on, from 1. */
  readonly line: number;
}

/** A problem in a requirements file (or between files), at a line. */
export interface RequirementProblem {
  readonly file: string;
  readonly line?: number;
  readonly message: string;
}

/** A requirement of an image: the same pin, from one or more models. */
export interface MergedRequirement {
  readonly key: string;
  readonly name: string;
  readonly extras: readonly string[];
  readonly version: string;
  readonly hashes: readonly string[];
  /** Who asked for it, in the order the models appear in the fleet file. */
  readonly sources: ReadonlyArray<{ readonly model: string; readonly file: string; readonly line: number }>;
}

/** PEP 503 name normalization: `Foo.Bar_baz` and `foo-bar-baz` are the same project. */
export function normalizePackageName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

const NAME = '[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?';
const REQUIREMENT = new RegExp(`^(${NAME})\\s*(?:\\[\\s*(${NAME}(?:\\s*,\\s*${NAME})*)?\\s*\\])?\\s*(.*)$`);
const HASH = /^(sha256|sha384|sha512):[0-9a-f]+$/;
const HASH_LENGTHS: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** Options pip accepts in a requirements file, each refused with the reason. */
const REFUSED_OPTIONS: ReadonlyArray<[RegExp, string]> = [
  [/^(-r|--requirement|-c|--constraint)\b/, 'includes another file; list the pins in this file, so each line the image installs is reviewed here'],
  [/^(-e|--editable)\b/, 'is an editable install, which pins no version'],
  [/^(-i|--index-url|--extra-index-url|-f|--find-links|--no-index|--trusted-host)\b/, 'chooses a package index; the image installs from PyPI, and an index per file would let one model change where every model\'s packages come from (not supported)'],
];

/**
 * Parses a requirements file, accepting only exact pins (`name==1.2.3`, optionally with extras
 * and `--hash` options), comments, blank lines and line continuations. Everything else is a
 * problem at its line: ranges, missing versions, wildcards, URLs, includes, markers.
 */
export function parseRequirements(text: string, file: string): { requirements: PinnedRequirement[]; problems: RequirementProblem[] } {
  const requirements: PinnedRequirement[] = [];
  const problems: RequirementProblem[] = [];
  const physical = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let index = 0; index < physical.length; index++) {
    const line = index + 1;
    // A trailing backslash continues the line (pip joins before it strips comments).
    let logical = physical[index];
    while (logical.endsWith('\\') && index + 1 < physical.length) logical = `${logical.slice(0, -1)} ${physical[++index]}`;
    // pip's rule: "#" at the start, or after whitespace, starts a comment.
    const content = logical.replace(/(^|\s)#.*$/, '').trim();
    if (content === '') continue;
    const problem = (message: string) => problems.push({ file, line, message: `"${content}" ${message}` });

    const refused = REFUSED_OPTIONS.find(([pattern]) => pattern.test(content));
    if (refused) {
      problem(refused[1]);
      continue;
    }
    if (content.startsWith('-')) {
      problem('is a pip option, which is not supported here: the image runs pip with fixed options');
      continue;
    }
    const [requirementText, ...optionParts] = content.split(/\s+(?=--)/);
    const match = REQUIREMENT.exec(requirementText.trim());
    if (!match) {
      problem('is not a requirement: expected "name==version", such as "transformers==4.46.3"');
      continue;
    }
    const [, name, extrasText, rest] = match;
    const spec = rest.trim();
    if (spec.includes(';')) {
      problem('has an environment marker; the image has one Python on one platform, so pin what it needs without one');
      continue;
    }
    if (spec.startsWith('@') || /^[a-z+]+:\/\//i.test(spec)) {
      problem(`is a direct reference (a URL), which no version pins; publish it to an index and pin "${name}==<version>"`);
      continue;
    }
    const pin = /^==\s*([^\s,=<>!~]+)$/.exec(spec);
    if (!pin || spec.startsWith('===')) {
      problem(`is not pinned: pin exactly one version, such as "${name}==<version>"${spec === '' ? '' : '; ranges, exclusions and "===" let the build pick another version than the one scanned'}`);
      continue;
    }
    const version = pin[1];
    if (version.includes('*') || pep440Valid(version) === null) {
      problem(`is not pinned to one version: "${version}" is ${version.includes('*') ? 'a wildcard' : 'not a PEP 440 version'}; pin one such as "${name}==1.2.3"`);
      continue;
    }
    const hashes: string[] = [];
    let badOption = false;
    for (const option of optionParts.join(' ').split(/\s+/).filter(Boolean).reduce<string[]>((all, part) => {
      // "--hash sha256:…" is "--hash=sha256:…" written with a space.
      if (all.length > 0 && all[all.length - 1] === '--hash') all[all.length - 1] = `--hash=${part}`;
      else all.push(part);
      return all;
    }, [])) {
      const hash = /^--hash=(.*)$/.exec(option)?.[1];
      const algorithm = hash?.split(':')[0] ?? '';
      if (hash === undefined || !HASH.test(hash) || hash.length !== algorithm.length + 1 + HASH_LENGTHS[algorithm]) {
        problem(`has "${option}"; after the version only --hash=<sha256|sha384|sha512>:<hex digest> options are allowed`);
        badOption = true;
        break;
      }
      hashes.push(hash);
    }
    if (badOption) continue;
    const extras = extrasText === undefined ? [] : extrasText.split(',').map((e) => e.trim().toLowerCase());
    requirements.push({ name, key: normalizePackageName(name), extras: [...new Set(extras)].sort(), version, hashes: [...new Set(hashes)].sort(), file, line });
  }
  return { requirements, problems };
}

/**
 * Merges the requirements of the models that share an image. The same project pinned to the
 * same version (as PEP 440 compares versions: `1.0` is `1.0.0`) is installed once, with the
 * union of its extras and hashes; the same project at two versions is a conflict, reported
 * with both models, both files and both lines.
 */
export function mergeRequirements(
  imageName: string,
  models: ReadonlyArray<{ readonly model: string; readonly requirements: readonly PinnedRequirement[] }>,
): { requirements: MergedRequirement[]; problems: RequirementProblem[] } {
  const merged = new Map<string, MergedRequirement & { sources: { model: string; file: string; line: number }[] }>();
  const problems: RequirementProblem[] = [];
  for (const { model, requirements } of models) {
    for (const r of requirements) {
      const source = { model, file: r.file, line: r.line };
      const existing = merged.get(r.key);
      if (existing === undefined) {
        merged.set(r.key, { key: r.key, name: r.name, extras: r.extras, version: r.version, hashes: r.hashes, sources: [source] });
        continue;
      }
      if (!pep440Equal(existing.version, r.version)) {
        const first = existing.sources[0];
        const sameModel = first.model === model;
        problems.push({
          file: r.file,
          line: r.line,
          message: sameModel
            ? `"${r.name}==${r.version}" conflicts with "${existing.name}==${existing.version}" at ${first.file}:${first.line}: model "${model}" pins ${r.key} twice; keep one version`
            : `"${r.name}==${r.version}" (model "${model}") conflicts with "${existing.name}==${existing.version}" (model "${first.model}", ${first.file}:${first.line}): both models run the serving image "${imageName}", which can hold one version of ${r.key}. Pin the same version in both files, or give one model its own image (models[].image, servingImages)`,
        });
        continue;
      }
      merged.set(r.key, {
        ...existing,
        extras: [...new Set([...existing.extras, ...r.extras])].sort(),
        hashes: [...new Set([...existing.hashes, ...r.hashes])].sort(),
        sources: [...existing.sources, source],
      });
    }
  }
  const all = [...merged.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  // pip checks hashes for every requirement of an install as soon as one has them.
  const hashed = all.find((r) => r.hashes.length > 0);
  const unhashed = all.find((r) => r.hashes.length === 0);
  if (hashed && unhashed && problems.length === 0) {
    const [h, u] = [hashed.sources[0], unhashed.sources[0]];
    problems.push({
      file: u.file,
      line: u.line,
      message: `"${unhashed.name}==${unhashed.version}" has no --hash, but "${hashed.name}==${hashed.version}" (${h.file}:${h.line}) has, and both go into the serving image "${imageName}": pip checks hashes for every requirement once one has them. Add --hash to every line of every file (pip-compile --generate-hashes writes them), or to none`,
    });
  }
  return { requirements: all, problems };
}
