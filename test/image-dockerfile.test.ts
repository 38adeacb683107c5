import fs from 'node:fs';
import path from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import { ValidationSeverity, format, validate } from 'dockerfile-utils';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadFleet, parseFleet } from '../lib/fleet';
import { type ServingImage, defineServingImages, renderDockerfile, renderServingImageFiles } from '../lib/image';

const FIXTURE = path.join(__dirname, 'fixtures', 'image');
const FLEET_FILE = path.join(FIXTURE, 'fleet.yaml');
const images = defineServingImages({ fleet: loadFleet(FLEET_FILE), fleetFile: FLEET_FILE });
const files = renderServingImageFiles(images, 'fleet.yaml');
const fileAt = (p: string) => files.find((f) => f.path === p)!.content;
const DOCKERFILE = fileAt('images/default/Dockerfile');

/** Every warning dockerfile-utils knows, raised to an error. */
const STRICT = {
  deprecatedMaintainer: ValidationSeverity.ERROR,
  directiveCasing: ValidationSeverity.ERROR,
  emptyContinuationLine: ValidationSeverity.ERROR,
  instructionCasing: ValidationSeverity.ERROR,
  instructionCmdMultiple: ValidationSeverity.ERROR,
  instructionEntrypointMultiple: ValidationSeverity.ERROR,
  instructionHealthcheckMultiple: ValidationSeverity.ERROR,
  instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
  instructionWorkdirRelative: ValidationSeverity.ERROR,
};

/**
 * The checks a reviewer makes on a serving image's Dockerfile, through the parser: returns what
 * breaks them (empty when none do).
 */
function dockerfileProblems(text: string, image: ServingImage): string[] {
  const problems = validate(text, STRICT).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
  if (format(text, { tabSize: 4, insertSpaces: true }).length > 0) problems.push('not formatted as dockerfile-utils formats it');
  const dockerfile = DockerfileParser.parse(text);
  const keywords = dockerfile.getInstructions().map((i) => i.getKeyword());
  const froms = dockerfile.getFROMs();
  if (froms.length !== 1) problems.push(`${froms.length} FROM instructions; one stage is expected`);
  const baseArg = dockerfile.getInitialARGs().find((a) => `\${${a.getProperty()?.getName()}}` === froms[0]?.getImageName());
  const base = baseArg?.getProperty()?.getValue() ?? undefined;
  if (base !== image.base) problems.push(`builds FROM ${base ?? froms[0]?.getImageName()}, not the pinned ${image.base}`);
  if (base === undefined || /:latest(@|$)/.test(base) || !/(:[^/:@]+|@sha256:[0-9a-f]{64})$/.test(base)) problems.push(`the base ${base} is not pinned`);
  const users = dockerfile.getInstructions().filter((i) => i.getKeyword() === 'USER').map((i) => i.getArgumentsContent());
  if (users.length === 0 || users.some((u) => u !== 'model-server')) problems.push(`USER ${users.join(', ')}; only the image's own model-server user is expected`);
  if (keywords.includes('ADD')) problems.push('ADD fetches or unpacks implicitly; COPY is expected');
  for (const run of dockerfile.getInstructions().filter((i) => i.getKeyword() === 'RUN').map((i) => i.getArgumentsContent() ?? '')) {
    if (/pip install/.test(run) && !run.includes('--no-cache-dir')) problems.push(`"${run}" keeps pip's cache in the image`);
    if (/apt-get|apk |sudo|curl |wget /.test(run)) problems.push(`"${run}" installs outside pip`);
  }
  for (const entrypoint of ['ENTRYPOINT', 'CMD', 'EXPOSE']) if (keywords.includes(entrypoint)) problems.push(`${entrypoint} overrides the TorchServe image's own`);
  // Reproducible layer order: requirements (rarely changed) before handlers (often changed).
  const order = dockerfile.getInstructions().filter((i) => ['COPY', 'RUN'].includes(i.getKeyword())).map((i) => `${i.getKeyword()} ${i.getArguments()[0]?.getValue() ?? ''}`);
  const expected = [
    ...(image.requirementsFile ? [`COPY ${image.requirementsFile}`, 'RUN python'] : []),
    ...image.handlers.map((h) => `COPY ${h.source}`),
    ...(image.handlers.length > 0 ? ['RUN ["python",'] : []),
  ];
  if (order.length !== expected.length || order.some((o, i) => !o.startsWith(expected[i]))) problems.push(`layers ${order.join(' | ')}; expected ${expected.join(' | ')}`);
  return problems;
}

describe('the serving image Dockerfile', () => {
  it('parses and lints clean with dockerfile-utils, every warning raised to an error', () => {
    expect(validate(DOCKERFILE, STRICT)).toEqual([]);
    expect(format(DOCKERFILE, { tabSize: 4, insertSpaces: true })).toEqual([]);
    expect(dockerfileProblems(DOCKERFILE, images[0])).toEqual([]);
  });

  it('would catch the mistakes it guards against (each check fails on a broken copy)', () => {
    const broken: [string, string][] = [
      ['FROM ${TORCHSERVE_IMAGE}', 'FROM pytorch/torchserve:latest'],
      ['USER model-server', 'USER root'],
      [' --no-cache-dir', ''],
      ['WORKDIR /home/model-server', 'WORKDIR home'],
      ['COPY images/default/requirements.txt', 'ADD images/default/requirements.txt'],
    ];
    for (const [from, to] of broken) {
      expect(DOCKERFILE).toContain(from);
      expect(dockerfileProblems(DOCKERFILE.replace(from, to), images[0]), to).not.toEqual([]);
    }
    expect(validate('FROM\nRUN echo\n', STRICT).length).toBeGreaterThan(0);
  });

  it('builds FROM the TorchServe image pinned by digest, keeps its user and paths, and copies only what .dockerignore lets through', () => {
    const dockerfile = DockerfileParser.parse(DOCKERFILE);
    expect(dockerfile.getInitialARGs()[0].getProperty()!.getValue()).toBe(`pytorch/torchserve:0.12.0-gpu@sha256:${'1'.repeat(64)}`);
    expect(dockerfile.getInstructions().find((i) => i.getKeyword() === 'WORKDIR')!.getArgumentsContent()).toBe('/home/model-server');
    const sources = dockerfile.getCOPYs().map((c) => c.getArguments()[0].getValue());
    expect(sources).toEqual(['images/default/requirements.txt', 'handlers/intent_classifier/handler.py', 'handlers/sentiment/sentiment_handler.py']);
    const ignore = fileAt('.dockerignore').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(ignore).toEqual(['*', ...[...sources].sort().map((s) => `!${s}`)]);
    for (const source of sources.filter((s) => s.startsWith('handlers/'))) expect(fs.existsSync(path.join(FIXTURE, source)), source).toBe(true);
    // The handler copies go to one folder per model and are compiled there.
    expect(DOCKERFILE).toContain('"/home/model-server/handlers/intent_classifier/handler.py","/home/model-server/handlers/sentiment/sentiment_handler.py"]');
  });

  it('is the same bytes for the same fleet, and lints clean for any set of models, pins and handlers (property)', () => {
    expect(renderServingImageFiles(defineServingImages({ fleet: loadFleet(FLEET_FILE), fleetFile: FLEET_FILE }), 'fleet.yaml')).toEqual(files);
    const name = fc.stringMatching(/^[a-z][a-z0-9]{0,5}(_[a-z0-9]{1,4})?$/);
    const version = fc.tuple(fc.nat(30), fc.nat(30), fc.nat(30)).map((v) => v.join('.'));
    const model = fc.record({
      name,
      requirements: fc.array(fc.record({ pkg: fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9]$/), version }), { maxLength: 4 }),
      handlerFile: fc.boolean(),
    });
    fc.assert(fc.property(fc.uniqueArray(model, { minLength: 1, maxLength: 4, selector: (m) => m.name.replace(/_/g, '-') }), (models) => {
      const image: ServingImage = {
        name: 'default',
        ref: 'registry.example.com/serving:r1',
        repository: 'registry.example.com/serving',
        tag: 'r1',
        base: 'pytorch/torchserve:0.12.0-cpu',
        models: models.map((m) => m.name),
        requirements: models.flatMap((m) => m.requirements.map((r) => ({ key: r.pkg, name: r.pkg, extras: [], version: r.version, hashes: [], sources: [{ model: m.name, file: 'r.txt', line: 1 }] }))),
        handlers: models.filter((m) => m.handlerFile).map((m) => ({ model: m.name, source: `handlers/${m.name}.py` })),
        dockerfile: 'images/default/Dockerfile',
        requirementsFile: models.some((m) => m.requirements.length > 0) ? 'images/default/requirements.txt' : undefined,
      };
      expect(dockerfileProblems(renderDockerfile(image, 'serving.yaml'), image)).toEqual([]);
    }), { numRuns: 60 });
  });

  it('without servingImages there is nothing to build, and no file is defined', () => {
    const text = fs.readFileSync(FLEET_FILE, 'utf-8').replace(/servingImages:\n(?: {2,}.*\n)+/, '').replace(/ {4}requirements: .*\n/g, '');
    expect(renderServingImageFiles(defineServingImages({ fleet: parseFleet(text), fleetFile: FLEET_FILE, fleetText: text }), 'fleet.yaml')).toEqual([]);
  });
});
