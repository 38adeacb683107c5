import fs from 'node:fs';
import path from 'node:path';
import { Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { parse, parseDocument } from 'yaml';
import { EnvironmentChart } from '../lib/environment';
import { FleetConfigError, parseFleet } from '../lib/fleet';
import { type KubeObject, checkPolicies } from '../lib/policy';
import { defaultValidator, formatIssue } from '../lib/validation';
import { tempDir } from './helpers/app';
import { runCli } from './helpers/cli';
import { dockerComposeConfig } from './helpers/docker-compose';
import { find } from './helpers/manifests';

const FIXTURE = path.join(__dirname, 'fixtures', 'image', 'fleet.yaml');
const BASE = `sha256:${'1'.repeat(64)}`;
const SERVING = `sha256:${'5e'.repeat(32)}`;
const FETCHER = `sha256:${'fe'.repeat(32)}`;

function edited(edit: (doc: ReturnType<typeof parseDocument>) => void): string {
  const doc = parseDocument(fs.readFileSync(FIXTURE, 'utf-8'));
  edit(doc);
  return doc.toString();
}

/** The fixture fleet with digests on the serving image and the model fetcher. */
const PINNED = edited((doc) => {
  doc.setIn(['servingImages', 'default', 'digest'], SERVING);
  doc.set('modelFetcher', doc.createNode({ repository: 'amazon/aws-cli', digest: FETCHER }));
});

function synth(text: string, strategy?: string): KubeObject[] {
  const doc = parseDocument(text);
  if (strategy) {
    doc.setIn(['environments', 'staging', 'strategy'], doc.createNode({ type: strategy }));
    doc.setIn(['environments', 'staging', 'gateway'], doc.createNode({ kind: 'gateway-api', implementation: 'kong', host: 'api.example.com', tls: { issuer: 'letsencrypt' } }));
  }
  const fleet = parseFleet(doc.toString());
  return Testing.synth(new EnvironmentChart(Testing.app(), 'staging', { fleet, environment: 'staging' })) as KubeObject[];
}

/** The problems parseFleet reports for `text`, one line each. */
function fleetProblems(text: string): string[] {
  try {
    parseFleet(text, 'serving.yaml');
    return [];
  } catch (error) {
    if (!(error instanceof FleetConfigError)) throw error;
    return error.message.split('\n').slice(1).map((l) => l.trim());
  }
}

const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

describe('images pinned by digest', () => {
  it('the pods run the serving image by digest, the model fetcher too, in a Deployment and in a Rollout', () => {
    for (const strategy of [undefined, 'blue-green']) {
      const objects = synth(PINNED, strategy);
      const workload = objects.find((o) => ['Deployment', 'Rollout'].includes(o.kind) && o.metadata.name === 'sentiment')!;
      expect(workload.kind).toBe(strategy ? 'Rollout' : 'Deployment');
      const pod = workload.spec.template.spec;
      expect(pod.containers[0].image).toBe(`123456789012.dkr.ecr.eu-west-1.amazonaws.com/imagetest/serving:r1@${SERVING}`);
      expect(pod.initContainers[0].image).toBe(`amazon/aws-cli@${FETCHER}`);
      expect(objects.flatMap((o) => defaultValidator().validate(o)).map(formatIssue)).toEqual([]);
    }
  });

  it('without servingImages, the pods run the TorchServe image, by its digest', () => {
    const text = PINNED.replace(/servingImages:\n(?: {2,}.*\n)+/, '').replace(/ {4}requirements: .*\n/g, '');
    const deployment = find(synth(text), 'Deployment', 'intent-classifier');
    expect(deployment.spec.template.spec.containers[0].image).toBe(`pytorch/torchserve:0.12.0-gpu@${BASE}`);
  });

  it('the packaging Job runs the TorchServe image by its digest', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'serving.yaml'), PINNED);
    fs.writeFileSync(path.join(dir, 'handler.py'), 'print(1)\n');
    const run = runCli(['model', 'package', '--name', 'sentiment', '--version', '2.1.0', '--model-path', 's3://training/sentiment/run-1/', '--handler', 'handler.py', '--role-arn', 'arn:aws:iam::123456789012:role/packager', '--packaging-dir', 'out'], { cwd: dir });
    expect(run.stderr).not.toContain('error');
    expect(run.status).toBe(0);
    const folder = path.join(dir, 'out', 'sentiment-2.1.0');
    const job = fs.readdirSync(folder).filter((f) => f.startsWith('Job.')).map((f) => parse(fs.readFileSync(path.join(folder, f), 'utf-8')))[0];
    const images = [...job.spec.template.spec.initContainers, ...job.spec.template.spec.containers].map((c: any) => c.image);
    expect(images).toContain(`pytorch/torchserve:0.12.0-gpu@${BASE}`);
    expect(images).toContain(`amazon/aws-cli@${FETCHER}`);
  });

  it('compose builds the serving image from its Dockerfile, and docker-compose config accepts the file', () => {
    const dir = tempDir();
    fs.cpSync(path.dirname(FIXTURE), dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'fleet.yaml'), PINNED);
    expect(runCli(['--config', 'fleet.yaml', 'image'], { cwd: dir }).status).toBe(0);
    fs.mkdirSync(path.join(dir, 'local'));
    const run = runCli(['--config', '../fleet.yaml', 'compose', '--image', 'pytorch/torchserve:0.12.0-cpu'], { cwd: path.join(dir, 'local') });
    expect(run.status).toBe(0);
    const file = path.join(dir, 'local', 'docker-compose.yml');
    const compose = parse(fs.readFileSync(file, 'utf-8'));
    for (const service of ['intent-classifier', 'sentiment']) {
      // The same Dockerfile as CI builds, FROM the CPU build for the laptop.
      expect(compose.services[service].build).toEqual({ context: '..', dockerfile: 'images/default/Dockerfile', args: { TORCHSERVE_IMAGE: 'pytorch/torchserve:0.12.0-cpu' } });
      expect(compose.services[service].image).toBe('imagetest-default:local');
    }
    expect(fs.existsSync(path.join(dir, 'local', compose.services.sentiment.build.context, compose.services.sentiment.build.dockerfile))).toBe(true);
    const config = dockerComposeConfig(file);
    expect(config.stderr).toBe('');
    expect(config.status).toBe(0);
    expect(parse(config.stdout).services.sentiment.build).toEqual({ context: dir, dockerfile: 'images/default/Dockerfile', args: { TORCHSERVE_IMAGE: 'pytorch/torchserve:0.12.0-cpu' } });
    // A broken build section is refused by the same check.
    fs.writeFileSync(file, fs.readFileSync(file, 'utf-8').replace('dockerfile: images/default/Dockerfile', 'dockerfile: [images/default/Dockerfile]'));
    expect(dockerComposeConfig(file).status).not.toBe(0);
  });

  it.each([
    ['a latest tag', (t: string) => t.replace('    tag: r1\n', '    tag: latest\n'), 'servingImages.default.tag: got "latest"; must be a pinned tag'],
    ['latest on the TorchServe image', (t: string) => t.replace('  tag: 0.12.0-gpu\n', '  tag: latest\n'), 'image.tag: got "latest"; must be a pinned tag'],
    ['a short digest', (t: string) => t.replace(`digest: ${BASE}`, 'digest: sha256:1234'), 'image.digest: got "sha256:1234"; must be "sha256:" followed by 64 lowercase hex digits'],
    ['a digest in the repository', (t: string) => t.replace('  repository: pytorch/torchserve\n', `  repository: pytorch/torchserve@${BASE}\n`), 'must be the repository alone, "pytorch/torchserve"; put the digest in "digest"'],
    ['neither tag nor digest', (t: string) => t.replace('    tag: r1\n', '').replace(`    digest: ${SERVING}\n`, ''), 'servingImages.default: got a mapping; needs a pinned tag, a digest ("sha256:…"), or both'],
    ['an unknown image', (t: string) => t.replace('    handler: handlers/sentiment/sentiment_handler.py\n', '    handler: handlers/sentiment/sentiment_handler.py\n    image: gpu\n'), 'models[1].image: got "gpu"; is not in servingImages, which defines: default'],
    ['requirements nothing installs', (t: string) => t.replace(/servingImages:\n(?: {2,}.*\n)+/, '').replace('    requirements: handlers/sentiment/requirements.txt\n', ''), 'models[0].requirements: got "handlers/intent_classifier/requirements.txt"; nothing would install these requirements'],
    ['a requirements path outside the fleet folder', (t: string) => t.replace('requirements: handlers/sentiment/requirements.txt', 'requirements: ../requirements.txt'), 'models[1].requirements: got "../requirements.txt"; must be a relative path inside the fleet file\'s folder'],
    ['the base repository as serving image', (t: string) => t.replace('    repository: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/imagetest/serving\n', '    repository: pytorch/torchserve\n'), 'servingImages.default.repository: got "pytorch/torchserve"; must differ from image.repository'],
  ])('refuses %s, at its line', (_name, edit, message) => {
    const text = edit(PINNED);
    expect(text).not.toBe(PINNED);
    const problems = fleetProblems(text);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^serving\.yaml:\d+:\d+: /);
    expect(problems[0]).toContain(message);
  });

  it('points a digest problem at the digest\'s own line', () => {
    const text = PINNED.replace(`digest: ${SERVING}`, 'digest: sha256:XYZ');
    expect(fleetProblems(text)[0]).toMatch(new RegExp(`^serving\\.yaml:${lineOf(text, 'digest: sha256:XYZ')}:13: servingImages\\.default\\.digest: got "sha256:XYZ"`));
  });
});

describe('installAtLoad: per-model dependency install, as an explicit opt-in', () => {
  const AT_LOAD = edited((doc) => {
    doc.setIn(['models', 1, 'installAtLoad'], doc.createNode({ indexUrl: 'https://pypi.internal.example.com:8443/simple', indexCidrs: ['10.30.0.0/16'] }));
  });

  it('has TorchServe pip-install the archive\'s requirements from the index, which the network policy opens', () => {
    const objects = synth(AT_LOAD);
    const config = find(objects, 'ConfigMap', 'sentiment-config').data['config.properties'];
    expect(config).toContain('\ninstall_py_dep_per_model=true\n');
    expect(find(objects, 'ConfigMap', 'intent-classifier-config').data['config.properties']).toContain('\ninstall_py_dep_per_model=false\n');
    const env = find(objects, 'Deployment', 'sentiment').spec.template.spec.containers[0].env;
    expect(env).toEqual(expect.arrayContaining([
      { name: 'PIP_INDEX_URL', value: 'https://pypi.internal.example.com:8443/simple' },
      { name: 'PIP_NO_CACHE_DIR', value: '1' },
      { name: 'PIP_DISABLE_PIP_VERSION_CHECK', value: '1' },
    ]));
    const egress = objects.find((o) => o.kind === 'NetworkPolicy' && o.spec.podSelector.matchLabels?.['app.kubernetes.io/instance'] === 'sentiment')!.spec.egress;
    expect(egress).toContainEqual({ to: [{ ipBlock: { cidr: '10.30.0.0/16' } }], ports: [{ protocol: 'TCP', port: 8443 }] });
    const other = objects.find((o) => o.kind === 'NetworkPolicy' && o.spec.podSelector.matchLabels?.['app.kubernetes.io/instance'] === 'intent-classifier')!.spec.egress;
    expect(JSON.stringify(other)).not.toContain('10.30.0.0/16');
    expect(checkPolicies(objects)).toEqual([]);
    expect(objects.flatMap((o) => defaultValidator().validate(o)).map(formatIssue)).toEqual([]);
  });

  it.each([
    ['an http index', 'http://pypi.example.com/simple', 'must be the https URL of a package index'],
    ['credentials in the URL', 'https://user:token@pypi.example.com/simple', 'must not carry credentials'],
  ])('refuses %s', (_name, indexUrl, message) => {
    const text = AT_LOAD.replace('https://pypi.internal.example.com:8443/simple', indexUrl);
    expect(fleetProblems(text).join('\n')).toContain(message);
  });

  it('a model that installs at load keeps its requirements out of the image', () => {
    const dir = tempDir();
    fs.cpSync(path.dirname(FIXTURE), dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'fleet.yaml'), AT_LOAD);
    expect(runCli(['--config', 'fleet.yaml', 'image'], { cwd: dir }).status).toBe(0);
    const merged = fs.readFileSync(path.join(dir, 'images', 'default', 'requirements.txt'), 'utf-8');
    expect(merged).not.toContain('scipy');
    expect(merged).not.toContain('sentiment (');
  });
});
