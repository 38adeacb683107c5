import fs from 'node:fs';
import path from 'node:path';
import { type Command, Option } from 'commander';
import { type FleetConfig, loadFleet } from '../../lib/fleet';
import { BuiltInHandler, PackagingHandler, packagedArchiveUri, packagingFolder, writePackagingJob } from '../../lib/packaging';
import {
  type ModelRegistry, RegistryAction, RegistryError, RegistryStage, compareVersions, modelNameProblem, promoteVersion,
  readRegistryFile, registerVersion, resolveActor, versionProblem, writeRegistryFile,
} from '../../lib/registry';
import { imageRef } from '../../lib/private/image-ref';
import { ValidationError } from '../../lib/private/validation-error';
import { ModelArchive } from '../../lib/torchserve';
import { CliError } from '../cli-error';
import type { GlobalOptions } from '../global-options';

/** A requirements.txt is a short list; anything larger is the wrong file. */
const MAX_REQUIREMENTS_BYTES = 64 * 1024;
/** The handler travels in a ConfigMap, which holds at most 1 MiB. */
const MAX_HANDLER_BYTES = 512 * 1024;

interface RegistryOptions {
  readonly registry: string;
}

/**
 * `model-serving model ...`: the model registry (register, promote, list, history) and packaging
 * (package), which writes the Job that builds a version's `.mar`.
 */
export function registerModelCommands(program: Command): void {
  const model = program
    .command('model')
    .description('register, promote, list and package model versions; the registry is a committed YAML file');
  const registryOption = () => new Option('--registry <file>', 'the registry file').env('MODEL_REGISTRY').default('registry.yaml');

  model
    .command('register')
    .description('register a version of a model and where its .mar archive lives')
    .requiredOption('--name <model>', 'the model name, as in the fleet file')
    .requiredOption('--version <semver>', 'a semantic version such as 1.0.0')
    .requiredOption('--path <uri>', 'the archive: s3://<bucket>/<key>.mar or pvc://<claim>/<path>.mar')
    .option('--reason <text>', 'why, for the audit trail')
    .addOption(registryOption())
    .action((o: RegistryOptions & { name: string; version: string; path: string; reason?: string }) => {
      editRegistry(o.registry, (registry, author) => registerVersion(registry, { model: o.name, version: o.version, path: o.path, reason: o.reason, ...author }));
    });

  model
    .command('promote')
    .description('point a stage at a registered version; production takes only versions promoted to staging before, unless --force')
    .requiredOption('--name <model>', 'the model name')
    .requiredOption('--version <semver>', 'a registered version')
    .addOption(new Option('--to <stage>', 'the stage').choices(Object.values(RegistryStage)).makeOptionMandatory())
    .requiredOption('--reason <text>', 'why, for the audit trail')
    .option('--force', 'promote to production a version that skipped staging (recorded as forced)')
    .addOption(registryOption())
    .action((o: RegistryOptions & { name: string; version: string; to: RegistryStage; reason: string; force?: boolean }) => {
      editRegistry(o.registry, (registry, author) => promoteVersion(registry, { model: o.name, version: o.version, stage: o.to, reason: o.reason, force: o.force, ...author }));
    });

  model
    .command('list')
    .description('list every registered version, its archive and the stages that deploy it')
    .option('--json', 'print JSON instead of a table', false)
    .addOption(registryOption())
    .action((o: RegistryOptions & { json: boolean }) => {
      const { registry, text } = readRegistry(o.registry);
      const rows = Object.keys(registry.models).sort().flatMap((name) => {
        const entry = registry.models[name];
        return Object.keys(entry.versions).sort(compareVersions).map((version) => ({
          model: name,
          version,
          path: entry.versions[version].path,
          stages: Object.values(RegistryStage).filter((stage) => entry.stages[stage] === version),
        }));
      });
      if (o.json) {
        console.log(JSON.stringify(rows, null, 2));
      } else if (rows.length === 0) {
        console.error(`model-serving: ${o.registry} ${text === undefined ? 'does not exist yet' : 'has no models'}; register one with: model-serving model register --name <model> --version <semver> --path <.mar location>`);
      } else {
        console.log(table(['MODEL', 'VERSION', 'STAGES', 'PATH'], rows.map((r) => [r.model, r.version, r.stages.join(', ') || '-', r.path])));
      }
    });

  model
    .command('history')
    .description("show a model's audit trail, oldest first")
    .requiredOption('--name <model>', 'the model name')
    .option('--json', 'print JSON instead of a table', false)
    .addOption(registryOption())
    .action((o: RegistryOptions & { name: string; json: boolean }) => {
      const { registry } = readRegistry(o.registry);
      const entry = registry.models[o.name];
      if (entry === undefined) {
        const known = Object.keys(registry.models).sort();
        throw new CliError(`model "${o.name}" is not in ${o.registry}${known.length > 0 ? ` (registered models: ${known.join(', ')})` : ''}`);
      }
      if (o.json) {
        console.log(JSON.stringify(entry.history, null, 2));
        return;
      }
      console.log(table(['TIME', 'ACTION', 'VERSION', 'STAGE', 'ACTOR', 'DETAILS'], entry.history.map((e) => [
        e.time,
        e.action,
        e.version,
        e.stage ?? '-',
        e.actor,
        [e.action === RegistryAction.REGISTER ? `path ${e.path}` : undefined, e.reason, e.forced ? '(forced: skipped staging)' : undefined].filter(Boolean).join('; '),
      ])));
    });

  model
    .command('package')
    .description('write the Kubernetes Job that packages a trained model into a .mar with torch-model-archiver and uploads it to s3://<bucket>/<model>/<version>/<model>.mar')
    .requiredOption('--name <model>', 'the model name (--model-name)')
    .requiredOption('--version <semver>', 'the version to package (--version)')
    .requiredOption('--model-path <s3 prefix>', 'the S3 prefix holding the training output, e.g. s3://ml-training/intent_classifier/run-42/')
    .requiredOption('--handler <file>', `the handler's Python file, shipped to the Job in a ConfigMap (no secrets), or a built-in handler: ${Object.values(BuiltInHandler).join(', ')}`)
    .option('--serialized-file <name>', 'the weights, relative to --model-path (default: model.pt, unless --model-file is given)')
    .option('--model-file <name>', "the model's class definition (.py), relative to --model-path")
    .option('--extra-files <names>', 'further files relative to --model-path, comma-separated; repeatable', collectList, [] as string[])
    .option('--requirements <file>', 'a local requirements.txt to package (--requirements-file)')
    .option('--environment <name>', "the fleet environment whose namespace, IAM role and S3 network range the Job uses (default: the fleet's staging environment)")
    .option('--role-arn <arn>', "the IAM role for the Job (default: the environment's serviceAccount.roleArn); it must be allowed to write the archive key")
    .option('--bucket <bucket>', "the model bucket (default: the bucket of the model's mar in the fleet file)")
    .option('--cpu <quantity>', 'CPU for torch-model-archiver', '2')
    .option('--memory <quantity>', 'memory for torch-model-archiver', '4Gi')
    .option('--workspace-size <quantity>', "scratch space: about three times the model's size", '8Gi')
    .option('-o, --output <dir>', 'output folder; the Job goes to <dir>/packaging/<model>-<version>/', 'dist')
    .option('--register', 'also register the archive location in the registry, following its rules', false)
    .option('--reason <text>', 'with --register: why, for the audit trail (default: "packaged from <model path>")')
    .addOption(registryOption())
    .action((o: PackageOptions, command: Command) => {
      const { config } = command.optsWithGlobals<GlobalOptions>();
      packageModel(o, config);
    });
}

interface PackageOptions extends RegistryOptions {
  readonly name: string;
  readonly version: string;
  readonly modelPath: string;
  readonly handler: string;
  readonly serializedFile?: string;
  readonly modelFile?: string;
  readonly extraFiles: string[];
  readonly requirements?: string;
  readonly environment?: string;
  readonly roleArn?: string;
  readonly bucket?: string;
  readonly cpu: string;
  readonly memory: string;
  readonly workspaceSize: string;
  readonly output: string;
  readonly register: boolean;
  readonly reason?: string;
}

function packageModel(o: PackageOptions, config: string): void {
  // Everything is checked before anything is written: a refused input leaves no trace.
  const nameProblem = modelNameProblem(o.name);
  if (nameProblem) throw new CliError(`--name "${o.name}": ${nameProblem}\nNothing was written.`);
  const versionIssue = versionProblem(o.version);
  if (versionIssue) throw new CliError(`--version "${o.version}": ${versionIssue}\nNothing was written.`);
  if (o.reason !== undefined && !o.register) throw new CliError('--reason is recorded only with --register\nNothing was written.');
  const handler = readHandler(o.handler);
  const requirements = o.requirements === undefined ? undefined : readText('--requirements', o.requirements, MAX_REQUIREMENTS_BYTES);

  const fleet = loadFleet(config);
  const environmentName = o.environment ?? stagingEnvironment(fleet, config);
  const environment = fleet.environments[environmentName];
  if (environment === undefined) {
    throw new CliError(`--environment "${environmentName}" is not in ${config}; it defines: ${Object.keys(fleet.environments).sort().join(', ')}\nNothing was written.`);
  }
  const roleArn = o.roleArn ?? environment.serviceAccount.roleArn;
  if (roleArn === undefined) {
    throw new CliError(`the Job needs an IAM role to read the training output and write the archive: pass --role-arn, or set environments.${environmentName}.serviceAccount.roleArn in ${config}\nNothing was written.`);
  }
  const bucket = o.bucket ?? fleetBucket(fleet, o.name);
  if (bucket === undefined) {
    throw new CliError(`no model bucket: ${config} has no s3:// mar for model "${o.name}"; pass --bucket\nNothing was written.`);
  }

  // With --register, the registry must accept the change before the Job is written.
  const archiveUri = packagedArchiveUri(bucket, o.name, o.version);
  let pending: { readonly text?: string; readonly registry: ModelRegistry; readonly changed: boolean; readonly message: string } | undefined;
  if (o.register) {
    const file = readRegistry(o.registry, 'Nothing was written.');
    const change = guard(() => registerVersion(file.registry, {
      model: o.name,
      version: o.version,
      path: archiveUri,
      reason: o.reason ?? `packaged from ${o.modelPath}`,
      ...author(o.registry),
    }), 'Nothing was written.');
    pending = { text: file.text, ...change };
  }

  const result = refuseInvalidProps(() => writePackagingJob({
    outdir: o.output,
    namespace: environment.namespace,
    partOf: fleet.name,
    modelName: o.name,
    modelVersion: o.version,
    trainedModelUri: o.modelPath,
    handler,
    serializedFile: o.serializedFile,
    modelFile: o.modelFile,
    extraFiles: o.extraFiles,
    requirements,
    archiveBucket: bucket,
    image: imageRef(fleet.image),
    awsCliImage: imageRef(fleet.modelFetcher),
    iamRoleArn: roleArn,
    cpu: o.cpu,
    memory: o.memory,
    workspaceSize: o.workspaceSize,
    objectStorageCidrs: environment.network.objectStorageCidrs,
  }));
  const shown = path.join(o.output, packagingFolder(o.name, o.version));
  console.error(`model-serving: wrote ${shown}/ (${result.files.length} manifests): Job ${result.jobName} in ${environment.namespace} packages ${o.name} ${o.version} into ${result.archiveUri}`);
  console.error(`model-serving: run it with: kubectl apply -k ${shown}`);
  if (requirements !== undefined) {
    const model = fleet.models.find((m) => m.name === o.name);
    if (model?.installAtLoad === undefined) {
      console.error(`model-serving: warning: TorchServe installs an archive's requirements only with models[].installAtLoad; pin them in models[].requirements of ${config} instead, so "model-serving image" bakes them into the serving image`);
    }
  }
  if (pending !== undefined) {
    if (pending.changed) {
      guard(() => writeRegistryFile(o.registry, pending.registry, { expectedText: pending.text ?? null }), `${o.registry} is unchanged, but ${shown}/ was written; run the command again to register it.`);
    }
    console.error(`model-serving: ${pending.message}${pending.changed ? ` in ${o.registry}` : ''}`);
  }
}

/** The construct checks the rest of the input (file names, quantities, the role) before writing anything. */
function refuseInvalidProps<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof ValidationError) throw new CliError(`${error.message}\nNothing was written.`);
    throw error;
  }
}

/** Reads the registry, applies one rule-checked change and writes it atomically. */
function editRegistry(file: string, change: (registry: ModelRegistry, author: { actor: string; time: Date }) => { registry: ModelRegistry; changed: boolean; message: string }): void {
  const current = readRegistry(file);
  const result = guard(() => change(current.registry, author(file)), unchangedNote(file));
  if (result.changed) {
    guard(() => writeRegistryFile(file, result.registry, { expectedText: current.text ?? null }), unchangedNote(file));
  }
  console.error(`model-serving: ${result.message}${result.changed ? ` in ${file}` : ''}`);
}

function readRegistry(file: string, note = unchangedNote(file)) {
  return guard(() => readRegistryFile(file), note);
}

function unchangedNote(file: string): string {
  return `Nothing was changed; ${file} is as it was.`;
}

function author(registryFile: string): { actor: string; time: Date } {
  // Git config is read where the registry lives, so that repository's user applies.
  return { actor: resolveActor(path.dirname(path.resolve(registryFile))), time: new Date() };
}

/** Runs `fn`, turning a broken registry rule into a user error followed by `note` (what was left alone). */
function guard<T>(fn: () => T, note: string): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof RegistryError) throw new CliError(`${error.message}\n${note}`);
    throw error;
  }
}

function readHandler(handler: string): PackagingHandler {
  const builtIn = Object.values(BuiltInHandler).find((name) => name === handler);
  if (builtIn !== undefined && !fs.existsSync(handler)) return PackagingHandler.builtIn(builtIn);
  const contents = readText('--handler', handler, MAX_HANDLER_BYTES, `give the handler's Python file, or a built-in handler: ${Object.values(BuiltInHandler).join(', ')}`);
  if (!handler.endsWith('.py')) throw new CliError(`--handler "${handler}": must be a Python file (.py)\nNothing was written.`);
  return PackagingHandler.fromFile(path.basename(handler), contents);
}

/** A small local UTF-8 text file, or a user error naming the flag. */
function readText(flag: string, file: string, maxBytes: number, hint?: string): string {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new CliError(`${flag} "${file}": no such file${hint ? `; ${hint}` : ''}\nNothing was written.`);
  }
  if (!stat.isFile()) throw new CliError(`${flag} "${file}": is not a file\nNothing was written.`);
  if (stat.size > maxBytes) throw new CliError(`${flag} "${file}": is ${stat.size} bytes; at most ${maxBytes} fit\nNothing was written.`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(fs.readFileSync(file));
  } catch {
    throw new CliError(`${flag} "${file}": is not UTF-8 text\nNothing was written.`);
  }
}

function stagingEnvironment(fleet: FleetConfig, config: string): string {
  const name = Object.keys(fleet.environments).sort().find((env) => fleet.environments[env].stage === RegistryStage.STAGING);
  if (name === undefined) throw new CliError(`${config} has no environment with stage: staging; pass --environment\nNothing was written.`);
  return name;
}

function fleetBucket(fleet: FleetConfig, modelName: string): string | undefined {
  const model = fleet.models.find((m) => m.name === modelName);
  if (model === undefined) return undefined;
  const archive = ModelArchive.fromUri(model.mar);
  return archive.source === 's3' ? archive.container : undefined;
}

function collectList(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(',').map((v) => v.trim()).filter((v) => v.length > 0)];
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows].map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n');
}
