import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readTree, tempDir } from './helpers/app';
import { runCli } from './helpers/cli';

/** Two models sharing the image "default", each with its own requirements and handler file. */
const FIXTURE = path.join(__dirname, 'fixtures', 'image');
const DIGEST = `sha256:${'ab'.repeat(32)}`;

/** A copy of the fixture's folder, with `files` (relative path to new content) written over it. */
function workspace(files: Record<string, string> = {}): string {
  const dir = tempDir();
  fs.cpSync(FIXTURE, dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), content);
  }
  return dir;
}

const fleetText = () => fs.readFileSync(path.join(FIXTURE, 'fleet.yaml'), 'utf-8');
const image = (dir: string, ...args: string[]) => runCli(['--config', 'fleet.yaml', 'image', ...args], { cwd: dir });

/** Runs the command on a broken workspace and checks that it failed cleanly and wrote nothing. */
function refused(dir: string, ...args: string[]) {
  const before = readTree(dir);
  const run = image(dir, ...args);
  expect(run.status).toBe(1);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(readTree(dir)).toEqual(before);
  return run.stderr;
}

describe('model-serving image', () => {
  it('writes one Dockerfile, the merged requirements and a .dockerignore, and --check then passes', () => {
    const dir = workspace();
    const run = image(dir);
    expect(run.stderr).toContain('wrote images/default/Dockerfile, images/default/requirements.txt, .dockerignore');
    expect(run.status).toBe(0);
    const check = image(dir, '--check');
    expect(check.stderr).toContain('up to date');
    expect(check.status).toBe(0);
    // A second run changes nothing.
    const tree = readTree(dir);
    expect(image(dir).stderr).toContain('nothing changed');
    expect(readTree(dir)).toEqual(tree);
  });

  it('merges the models\' pins: PEP 503 names, PEP 440 versions, the union of extras, each pin\'s sources', () => {
    const dir = workspace();
    image(dir);
    const merged = fs.readFileSync(path.join(dir, 'images', 'default', 'requirements.txt'), 'utf-8');
    const pins = merged.split('\n').filter((l) => l && !l.startsWith('#'));
    // Huggingface_Hub==0.26.2 and huggingface-hub==0.26.2.0 are one project at one version.
    expect(pins).toEqual(['Huggingface_Hub==0.26.2', 'scipy==1.13.1', 'tokenizers==0.20.3', 'transformers[torch]==4.46.3']);
    expect(merged).toContain('# intent_classifier (handlers/intent_classifier/requirements.txt:2), sentiment (handlers/sentiment/requirements.txt:1)\ntransformers[torch]==4.46.3\n');
  });

  it('refuses two models that pin one package at two versions, naming both models, files and lines', () => {
    const dir = workspace({ 'handlers/sentiment/requirements.txt': 'scipy==1.13.1\ntokenizers==0.19.1\n' });
    const stderr = refused(dir);
    expect(stderr).toContain('error: the serving images cannot be defined (1 problem):');
    expect(stderr).toContain('handlers/sentiment/requirements.txt:2: "tokenizers==0.19.1" (model "sentiment") conflicts with "tokenizers==0.20.3" (model "intent_classifier", handlers/intent_classifier/requirements.txt:3): both models run the serving image "default"');
    expect(stderr).toContain('give one model its own image (models[].image, servingImages)');
    expect(stderr).toContain('Nothing was written.');
  });

  it('accepts the same conflict once the models run different images', () => {
    const fleet = `${fleetText()
      .replace('    requirements: handlers/sentiment/requirements.txt\n', '    requirements: handlers/sentiment/requirements.txt\n    image: sentiment\n')
      .replace('    tag: r1\n', `    tag: r1\n  sentiment:\n    repository: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/imagetest/sentiment\n    digest: ${DIGEST}\n`)}`;
    const dir = workspace({ 'fleet.yaml': fleet, 'handlers/sentiment/requirements.txt': 'tokenizers==0.19.1\n' });
    const run = image(dir);
    expect(run.stderr).toContain('wrote images/default/Dockerfile, images/default/requirements.txt, images/sentiment/Dockerfile, images/sentiment/requirements.txt, .dockerignore');
    expect(run.status).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'images', 'sentiment', 'requirements.txt'), 'utf-8')).toMatch(/\ntokenizers==0\.19\.1\n$/);
    expect(fs.readFileSync(path.join(dir, 'images', 'default', 'requirements.txt'), 'utf-8')).toContain('\ntokenizers==0.20.3\n');
    expect(fs.readFileSync(path.join(dir, 'images', 'sentiment', 'Dockerfile'), 'utf-8')).toContain('COPY handlers/sentiment/sentiment_handler.py /home/model-server/handlers/sentiment/\n');
    expect(fs.readFileSync(path.join(dir, 'images', 'default', 'Dockerfile'), 'utf-8')).not.toContain('sentiment_handler.py');
  });

  it.each([
    ['a range', 'numpy>=1.26', 'is not pinned: pin exactly one version, such as "numpy==<version>"'],
    ['a missing version', 'numpy', 'is not pinned: pin exactly one version'],
    ['a wildcard', 'numpy==1.26.*', 'is not pinned to one version: "1.26.*" is a wildcard'],
    ['a URL', 'mylib @ https://example.com/mylib-1.0.whl', 'is a direct reference (a URL)'],
    ['an include', '-r other.txt', 'includes another file'],
    ['an index', '--index-url https://pypi.example.com/simple', 'chooses a package index'],
    ['a marker', 'numpy==1.26.4; python_version < "3.12"', 'has an environment marker'],
  ])('refuses %s with the file and line, and writes nothing', (_name, line, message) => {
    const dir = workspace({ 'handlers/sentiment/requirements.txt': `# pins\nscipy==1.13.1\n${line}\n` });
    expect(refused(dir)).toContain(`handlers/sentiment/requirements.txt:3: "${line}" ${message}`);
  });

  it('reports every problem of every file in one run', () => {
    const dir = workspace({
      'handlers/intent_classifier/requirements.txt': 'transformers>=4\n',
      'handlers/sentiment/requirements.txt': 'scipy\n',
    });
    const stderr = refused(dir);
    expect(stderr).toContain('(2 problems)');
    expect(stderr).toContain('handlers/intent_classifier/requirements.txt:1: "transformers>=4" is not pinned');
    expect(stderr).toContain('handlers/sentiment/requirements.txt:1: "scipy" is not pinned');
  });

  it('locates a missing requirements or handler file at its line in the fleet file', () => {
    const dir = workspace();
    fs.rmSync(path.join(dir, 'handlers', 'sentiment', 'requirements.txt'));
    fs.rmSync(path.join(dir, 'handlers', 'intent_classifier', 'handler.py'));
    const stderr = refused(dir);
    const lines = fleetText().split('\n');
    const lineOf = (text: string) => lines.findIndex((l) => l.includes(text)) + 1;
    expect(stderr).toContain(`fleet.yaml:${lineOf('handler: handlers/intent_classifier/handler.py')}:14: models[0].handler: got "handlers/intent_classifier/handler.py"; no such file beside fleet.yaml`);
    expect(stderr).toContain(`fleet.yaml:${lineOf('requirements: handlers/sentiment/requirements.txt')}:19: models[1].requirements: got "handlers/sentiment/requirements.txt"; no such file`);
  });

  it('refuses to mix hashed and unhashed pins in one image: pip would refuse the build', () => {
    const hash = `--hash=sha256:${'0'.repeat(64)}`;
    const dir = workspace({ 'handlers/sentiment/requirements.txt': `scipy==1.13.1 \\\n    ${hash}\n` });
    expect(refused(dir)).toContain('has no --hash, but "scipy==1.13.1" (handlers/sentiment/requirements.txt:1) has');
    // Hashes everywhere are fine, and make pip check every download.
    const all = workspace({
      'handlers/intent_classifier/requirements.txt': `transformers==4.46.3 ${hash}\n`,
      'handlers/sentiment/requirements.txt': `scipy==1.13.1 \\\n    ${hash}\n`,
    });
    expect(image(all).status).toBe(0);
    expect(fs.readFileSync(path.join(all, 'images', 'default', 'Dockerfile'), 'utf-8')).toContain('--require-hashes -r /home/model-server/image/requirements.txt');
    expect(fs.readFileSync(path.join(all, 'images', 'default', 'requirements.txt'), 'utf-8')).toContain(`scipy==1.13.1 \\\n    ${hash}\n`);
  });

  it('never overwrites a .dockerignore a person wrote', () => {
    const dir = workspace({ '.dockerignore': 'node_modules\n' });
    expect(refused(dir)).toContain('.dockerignore exists and was not written by "model-serving image"');
  });

  it('--check fails on a stale or missing file and names it, writing nothing', () => {
    const dir = workspace();
    expect(refused(dir, '--check')).toContain('images/default/Dockerfile: missing; expected from fleet.yaml');
    image(dir);
    fs.writeFileSync(path.join(dir, 'handlers', 'sentiment', 'requirements.txt'), 'scipy==1.14.0\n');
    const stderr = refused(dir, '--check');
    expect(stderr).toContain('images/default/requirements.txt: differs from fleet.yaml');
    expect(stderr).toContain('Run "model-serving image" and commit the result.');
  });

  it('removes the files of an image the fleet no longer defines, and only its own files', () => {
    const dir = workspace();
    image(dir);
    fs.mkdirSync(path.join(dir, 'images', 'notes'));
    fs.writeFileSync(path.join(dir, 'images', 'notes', 'Dockerfile'), 'FROM scratch\n');
    fs.writeFileSync(path.join(dir, 'fleet.yaml'), fleetText()
      .replace(/servingImages:\n(?: {2,}.*\n)+/, '')
      .replace(/ {4}requirements: .*\n/g, ''));
    const run = image(dir);
    expect(run.status).toBe(0);
    expect(run.stderr).toContain('defines no servingImages, so the models run pytorch/torchserve:0.12.0-gpu@sha256:1111');
    expect(fs.existsSync(path.join(dir, 'images', 'default'))).toBe(false);
    expect(fs.existsSync(path.join(dir, '.dockerignore'))).toBe(false);
    expect(fs.readFileSync(path.join(dir, 'images', 'notes', 'Dockerfile'), 'utf-8')).toBe('FROM scratch\n');
  });

  it('lists the images for the workflow\'s build matrix, with the ECR account, region and repository', () => {
    const run = image(workspace(), 'list', '--json');
    expect(run.status).toBe(0);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(run.stdout)).toEqual([{
      name: 'default',
      repository: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/imagetest/serving',
      tag: 'r1',
      digest: '',
      ref: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/imagetest/serving:r1',
      base: `pytorch/torchserve:0.12.0-gpu@sha256:${'1'.repeat(64)}`,
      dockerfile: 'images/default/Dockerfile',
      context: '.',
      models: ['intent_classifier', 'sentiment'],
      ecr: { account: '123456789012', region: 'eu-west-1', repository: 'imagetest/serving' },
    }]);
  });

  describe('pin', () => {
    it('records a digest by changing only that line of the fleet file', () => {
      const dir = workspace();
      const run = image(dir, 'pin', '--digest', DIGEST);
      expect(run.stderr).toContain(`servingImages.default.digest: set to ${DIGEST} in fleet.yaml`);
      expect(run.status).toBe(0);
      const after = fs.readFileSync(path.join(dir, 'fleet.yaml'), 'utf-8');
      expect(after).toBe(fleetText().replace('    tag: r1\n', `    tag: r1\n    digest: ${DIGEST}\n`));
      // A new digest replaces the old one's bytes only.
      const next = `sha256:${'cd'.repeat(32)}`;
      expect(image(dir, 'pin', 'default', '--digest', next).stderr).toContain(`servingImages.default.digest: ${DIGEST} -> ${next}`);
      expect(fs.readFileSync(path.join(dir, 'fleet.yaml'), 'utf-8')).toBe(after.replace(DIGEST, next));
      expect(parse(fs.readFileSync(path.join(dir, 'fleet.yaml'), 'utf-8')).servingImages.default.digest).toBe(next);
    });

    it('pins the TorchServe image with --base', () => {
      const dir = workspace();
      expect(image(dir, 'pin', '--base', '--digest', DIGEST).status).toBe(0);
      expect(fs.readFileSync(path.join(dir, 'fleet.yaml'), 'utf-8')).toBe(fleetText().replace(`sha256:${'1'.repeat(64)}`, DIGEST));
    });

    it.each([
      ['a digest that is not one', ['--digest', 'sha256:abc'], '--digest "sha256:abc" must be "sha256:" followed by 64 lowercase hex digits'],
      ['an upper-case digest', ['--digest', `sha256:${'AB'.repeat(32)}`], 'must be "sha256:" followed by 64 lowercase hex digits'],
      ['an unknown image', ['nope', '--digest', DIGEST], 'unknown serving image "nope"; fleet.yaml defines: default. Nothing was changed.'],
      ['a name with --base', ['default', '--base', '--digest', DIGEST], '--base pins image.digest, the TorchServe image; drop "default"'],
    ])('refuses %s and changes nothing', (_name, args, message) => {
      expect(refused(workspace(), 'pin', ...args)).toContain(message);
    });
  });
});
