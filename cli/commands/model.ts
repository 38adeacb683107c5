import fs from 'node:fs';
import path from 'node:path';
import { type Command, Option } from 'commander';
import type { FleetConfig } from '../../lib/fleet';
import { BuiltInHandler, PackagingHandler, packagedArchiveUri } from '../../lib/packaging';
import {
  type ChangeAuthor, type ModelRegistry, type RegistryChange, type RegistryFile, type RegistryOption, RegistryAction, RegistryError, RegistryOptionError, RegistryStage, compareVersions, emptyRegistry,
  promoteVersion, registerVersion, resolveActor,
} from '../../lib/registry';
import { imageRef } from '../../lib/image';
import { type ServingRepository, type YamlEdit, editYamlText, packagingFolder, writePackagingJob } from '../../lib/repository';
import { ValidationError } from '../../lib/core';
import { ModelArchive, modelNameProblem, modelVersionProblem } from '../../lib/torchserve';
import { CliError, refusing } from '../cli-error';
import { openRepository, outputOption, packagingDirOption, registryOption } from '../options';
import { printSummary } from '../summary';

/** Stages in promotion order. */
const STAGES = [RegistryStage.STAGING, RegistryStage.PRODUCTION];

/** A requirements.txt is a short list; anything larger is the wrong file. */
const MAX_REQUIREMENTS_BYTES = 64 * 1024;
/** The handler travels in a ConfigMap, which holds at most 1 MiB. */
const MAX_HANDLER_BYTES = 512 * 1024;

/**
 * `model-serving model ...`: the model registry (init, register, promote, list, history) and
 * packaging (package), which writes the Job that builds a version's `.mar`. The registry lives
 * beside the fleet file unless --registry or MODEL_REGISTRY names another; only `init` creates it.
 */
export function registerModelCommands(program: Command): void {
  const model = program
    .command('model')
    .description('create the model registry, register, promote, list and package model versions; the registry is a committed YAML file beside the fleet file');

  model
    .command('init')
    .description("create the model registry beside the fleet file: registers each model's version and archive from the fleet file and promotes it to the stages the environments deploy; in the fleet file, models[].version becomes a pin per environment (environments.<env>.versions) and mar goes, because the registry holds the archives from now on")
    .option('--reason <text>', 'why, for the audit trail', 'imported from the fleet file')
    .addOption(registryOption())
    .addOption(outputOption())
    .action((o: { reason: string }, command: Command) => {
      initRegistry(openRepository(command), o.reason);
    });

  model
    .command('register')
    .description('register a version of a model and where its .mar archive lives')
    .requiredOption('--name <model>', 'the model name, as in the fleet file')
    .requiredOption('--version <semver>', 'a semantic version such as 1.0.0')
    .requiredOption('--path <uri>', 'the archive: s3://<bucket>/<key>.mar or pvc://<claim>/<path>.mar')
    .option('--reason <text>', 'why, for the audit trail')
    .addOption(registryOption())
    .addOption(outputOption())
    .action((o: { name: string; version: string; path: string; reason?: string }, command: Command) => {
      changeRegistry(openRepository(command), (registry, author) => registerVersion(registry, { model: o.name, version: o.version, path: o.path, reason: o.reason, ...author }));
    });

  model
    .command('promote')
    .description('approve a registered version for a stage; production takes only versions promoted to staging before, unless --force. Nothing runs it until "model-serving deploy" pins it in an environment of that stage')
    .requiredOption('--name <model>', 'the model name')
    .requiredOption('--version <semver>', 'a registered version')
    .addOption(new Option('--to <stage>', 'the stage').choices(Object.values(RegistryStage)).makeOptionMandatory())
    .requiredOption('--reason <text>', 'why, for the audit trail')
    .option('--force', 'promote to production a version that skipped staging (recorded as forced)')
    .addOption(registryOption())
    .addOption(outputOption())
    .action((o: { name: string; version: string; to: RegistryStage; reason: string; force?: boolean }, command: Command) => {
      changeRegistry(openRepository(command), (registry, author) => promoteVersion(registry, { model: o.name, version: o.version, stage: o.to, reason: o.reason, force: o.force, ...author }), (fleet) => {
        const environments = Object.keys(fleet.environments).filter((env) => fleet.environments[env].stage === o.to && fleet.environments[env].versions?.[o.name] !== o.version);
        const model = fleet.models.length > 1 ? ` --model ${o.name}` : '';
        return environments.length === 0 ? undefined : `nothing runs it yet; deploy it with: ${environments.map((env) => `model-serving deploy ${env} ${o.version} <rolling|canary|blue-green>${model}`).join(', then ')}`;
      });
    });

  model
    .command('list')
    .description('list every registered version, its archive and the stages that deploy it')
    .option('--json', 'print JSON instead of a table', false)
    .addOption(registryOption())
    .action((o: { json: boolean }, command: Command) => {
      const repository = openRepository(command);
      const file = readRegistry(repository);
      const rows = Object.keys(file.registry.models).sort().flatMap((name) => {
        const entry = file.registry.models[name];
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
        console.error(`model-serving: ${repository.display(file.file)} has no models; register one with: model-serving model register --name <model> --version <semver> --path <.mar location>`);
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
    .action((o: { name: string; json: boolean }, command: Command) => {
      const repository = openRepository(command);
      const file = readRegistry(repository);
      const entry = file.registry.models[o.name];
      if (entry === undefined) {
        const known = Object.keys(file.registry.models).sort();
        throw new CliError(`model "${o.name}" is not in ${repository.display(file.file)}${known.length > 0 ? ` (registered models: ${known.join(', ')})` : ''}`);
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
    .requiredOption('--role-arn <arn>', 'the IAM role the Job runs with: it reads the training output and writes s3://<bucket>/<model>/*, so not the serving pods\' read-only role')
    .option('--serialized-file <name>', 'the weights, relative to --model-path (default: model.pt, unless --model-file is given)')
    .option('--model-file <name>', "the model's class definition (.py), relative to --model-path")
    .option('--extra-files <names>', 'further files relative to --model-path, comma-separated; repeatable', collectList, [] as string[])
    .option('--requirements <file>', 'a local requirements.txt to package (--requirements-file)')
    .option('--environment <name>', "the fleet environment whose namespace and S3 network range the Job uses (default: the fleet's staging environment)")
    .option('--bucket <bucket>', "the model bucket (default: the bucket of the model's registered archives, else of its mar in the fleet file)")
    .option('--cpu <quantity>', 'CPU for torch-model-archiver', '2')
    .option('--memory <quantity>', 'memory for torch-model-archiver', '4Gi')
    .option('--workspace-size <quantity>', "scratch space: about three times the model's size", '8Gi')
    .addOption(packagingDirOption())
    .option('--register', 'also register the archive location in the registry, following its rules', false)
    .option('--reason <text>', 'with --register: why, for the audit trail (default: "packaged from <model path>")')
    .addOption(registryOption())
    .action((o: PackageOptions, command: Command) => {
      packageModel(o, openRepository(command));
    });
}

interface PackageOptions {
  readonly name: string;
  readonly version: string;
  readonly modelPath: string;
  readonly handler: string;
  readonly roleArn: string;
  readonly serializedFile?: string;
  readonly modelFile?: string;
  readonly extraFiles: string[];
  readonly requirements?: string;
  readonly environment?: string;
  readonly bucket?: string;
  readonly cpu: string;
  readonly memory: string;
  readonly workspaceSize: string;
  readonly register: boolean;
  readonly reason?: string;
}

/** The construct's props as the command's flags, so a refusal names what the user typed. */
const PACKAGE_FLAGS: Readonly<Record<string, string>> = {
  modelName: '--name',
  modelVersion: '--version',
  trainedModelUri: '--model-path',
  handler: '--handler',
  iamRoleArn: '--role-arn',
  serializedFile: '--serialized-file',
  modelFile: '--model-file',
  extraFiles: '--extra-files',
  requirements: '--requirements',
  archiveBucket: '--bucket',
  cpu: '--cpu',
  memory: '--memory',
  workspaceSize: '--workspace-size',
};

function packageModel(o: PackageOptions, repository: ServingRepository): void {
  const nothing = 'Nothing was written.';
  // Everything is checked before anything is written: a refused input leaves no trace.
  const nameProblem = modelNameProblem(o.name);
  if (nameProblem) throw new CliError(`--name "${o.name}": ${nameProblem}\n${nothing}`);
  const versionIssue = modelVersionProblem(o.version);
  if (versionIssue) throw new CliError(`--version "${o.version}": ${versionIssue}\n${nothing}`);
  if (o.reason !== undefined && !o.register) throw new CliError(`--reason is recorded only with --register\n${nothing}`);
  const handler = readHandler(o.handler);
  const requirements = o.requirements === undefined ? undefined : readText('--requirements', o.requirements, MAX_REQUIREMENTS_BYTES);

  const fleet = refusing(() => repository.loadFleet(), nothing).config;
  const fleetFile = repository.display(repository.paths.fleetFile);
  const environmentName = o.environment ?? stagingEnvironment(fleet, fleetFile);
  const environment = fleet.environments[environmentName];
  if (environment === undefined) {
    throw new CliError(`--environment "${environmentName}" is not in ${fleetFile}; it defines: ${Object.keys(fleet.environments).sort().join(', ')}\n${nothing}`);
  }
  // The serving pods' role only reads archives; a role that can overwrite them must not serve.
  const servingRole = Object.entries(fleet.environments).find(([, env]) => env.serviceAccount?.roleArn === o.roleArn);
  if (servingRole !== undefined) {
    throw new CliError(`--role-arn "${o.roleArn}" is the serving pods' role (environments.${servingRole[0]}.serviceAccount.roleArn in ${fleetFile}), which should only read archives; pass a packaging role that may write s3://<bucket>/${o.name}/*\n${nothing}`);
  }
  const registry = o.register ? refusing(() => repository.requireRegistry(), nothing) : refusing(() => repository.loadRegistry(), nothing);
  const bucket = o.bucket ?? modelBucket(fleet, registry?.registry, o.name);
  if (bucket === undefined) {
    throw new CliError(`--bucket is needed: neither ${fleetFile} nor the registry has an s3:// archive of model "${o.name}" to take the bucket from\n${nothing}`);
  }

  // With --register, the registry must accept the change before the Job is written.
  const archiveUri = packagedArchiveUri(bucket, o.name, o.version);
  const change = o.register && registry
    ? refusing(() => namingFlags(() => registerVersion(registry.registry, { model: o.name, version: o.version, path: archiveUri, reason: o.reason ?? `packaged from ${o.modelPath}`, ...author(repository) }), registry, repository, { path: undefined }), nothing)
    : undefined;
  const plan = change?.changed ? refusing(() => repository.plan({ registry: change.registry }), nothing) : undefined;

  let result;
  try {
    result = writePackagingJob({
      outdir: repository.paths.packagingDir,
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
      awsCliImage: fleet.modelFetcher && imageRef(fleet.modelFetcher),
      iamRoleArn: o.roleArn,
      cpu: o.cpu,
      memory: o.memory,
      workspaceSize: o.workspaceSize,
      objectStorageCidrs: environment.network?.objectStorageCidrs,
    });
  } catch (error) {
    if (error instanceof ValidationError) {
      const detail = error.detail.replace(/'(\w+)'/g, (quoted, prop: string) => PACKAGE_FLAGS[prop] ?? quoted);
      throw new CliError(`${detail}\n${nothing}`);
    }
    throw error;
  }
  const shown = repository.display(path.join(repository.paths.packagingDir, packagingFolder(o.name, o.version)));
  console.error(`model-serving: wrote ${shown}/ (${result.files.length} manifests): Job ${result.jobName} in ${environment.namespace} packages ${o.name} ${o.version} into ${result.archiveUri}`);
  console.error(`model-serving: run it with: kubectl apply -k ${shown}`);
  if (requirements !== undefined) {
    const model = fleet.models.find((m) => m.name === o.name);
    if (model?.installAtLoad === undefined) {
      console.error(`model-serving: warning: TorchServe installs an archive's requirements only with models[].installAtLoad; pin them in models[].requirements of ${fleetFile} instead, so "model-serving image" bakes them into the serving image`);
    }
  }
  if (change !== undefined) {
    if (plan !== undefined) refusing(() => plan.apply(), `${repository.display(repository.paths.registryFile)} is unchanged, but ${shown}/ was written; run the command again to register it.`);
    console.error(`model-serving: ${change.message}${change.changed ? ` in ${repository.display(repository.paths.registryFile)}` : ''}`);
  }
}

/** The flags of "model register" and "model promote", by the registry option each gives. */
const REGISTRY_FLAGS: Readonly<Record<RegistryOption, string | undefined>> = { model: '--name', version: '--version', path: '--path', reason: '--reason' };

/**
 * Runs a registry change: a value that breaks a rule is reported with the flag the user typed, and
 * a rule about the registry's contents with the line of the field it is about.
 */
function namingFlags<T>(fn: () => T, registry: RegistryFile | undefined, repository: ServingRepository, overrides: Partial<Record<RegistryOption, string | undefined>> = {}): T {
  try {
    return fn();
  } catch (error) {
    const flag = error instanceof RegistryOptionError ? { ...REGISTRY_FLAGS, ...overrides }[error.option] : undefined;
    if (error instanceof RegistryOptionError && flag !== undefined) throw new CliError(`${flag} ${JSON.stringify(error.value)}: ${error.problem}`);
    const line = error instanceof RegistryError && error.at ? registry?.locate?.(error.at).line : undefined;
    if (registry && line !== undefined) throw new CliError(`${repository.display(registry.file)}:${line}: ${(error as Error).message}`);
    throw error;
  }
}

/** Applies one rule-checked registry change; the output cannot change, since only pins in the fleet file decide what runs. */
function changeRegistry(repository: ServingRepository, change: (registry: ModelRegistry, author: ChangeAuthor) => RegistryChange, next?: (fleet: FleetConfig) => string | undefined): void {
  const note = `Nothing was changed; ${repository.display(repository.paths.registryFile)} is as it was.`;
  const current = refusing(() => repository.requireRegistry(), note);
  const result = refusing(() => namingFlags(() => change(current.registry, author(repository)), current, repository), note);
  if (!result.changed) {
    console.error(`model-serving: ${result.message}`);
    return;
  }
  // The whole repository must still hold together (a newly registered model may still have its
  // version in the fleet file, say) before the registry is written.
  const plan = refusing(() => repository.plan({ registry: result.registry }), note);
  refusing(() => plan.apply(), note);
  console.error(`model-serving: ${result.message} in ${repository.display(repository.paths.registryFile)}`);
  if (plan.diff.changes.length > 0) printSummary(repository, plan, { headline: `${repository.display(repository.paths.outdir)}/ was synthesized again.`, head: result.message });
  const hint = next?.(refusing(() => repository.loadFleet(), note).config);
  if (hint) console.error(`model-serving: ${hint}`);
}

/** `model init`: the registry, created explicitly, from what the fleet file runs today. */
function initRegistry(repository: ServingRepository, reason: string): void {
  const registryFile = repository.display(repository.paths.registryFile);
  const note = 'Nothing was changed.';
  if (fs.existsSync(repository.paths.registryFile)) throw new CliError(`${registryFile} exists already; "model init" only creates a registry\n${note}`);
  const fleet = refusing(() => repository.loadFleet(), note);
  const stages = STAGES.filter((stage) => Object.values(fleet.config.environments).some((env) => env.stage === stage));
  let registry = emptyRegistry();
  const edits: YamlEdit[] = [];
  const by = author(repository);
  // Only --reason is typed here; the rest comes from the validated fleet file.
  const fromFleet = { model: undefined, version: undefined, path: undefined };
  fleet.config.models.forEach((model, index) => {
    if (model.version === undefined || model.mar === undefined) return;
    const version = model.version;
    registry = refusing(() => namingFlags(() => registerVersion(registry, { model: model.name, version, path: model.mar as string, reason, ...by }), undefined, repository, fromFleet), note).registry;
    for (const stage of stages) {
      registry = refusing(() => namingFlags(() => promoteVersion(registry, { model: model.name, version, stage, reason, force: stage === RegistryStage.PRODUCTION && !stages.includes(RegistryStage.STAGING), ...by }), undefined, repository, fromFleet), note).registry;
    }
    edits.push({ path: ['models', index, 'version'], delete: true }, { path: ['models', index, 'mar'], delete: true });
    // Every environment keeps running what it runs, now as a pin that only a deploy changes.
    for (const name of Object.keys(fleet.config.environments)) edits.push({ path: ['environments', name, 'versions', model.name], value: version });
  });
  const plan = refusing(() => repository.plan({ registry, fleetText: editYamlText(fleet.text, edits) }), note);
  // What runs must not change: the output with the registry is the output without it.
  const unchanged = refusing(() => repository.plan({ registry: null }), note);
  if (JSON.stringify(plan.diff.changes) !== JSON.stringify(unchanged.diff.changes)) {
    throw new CliError(`the registry would change what runs; this is a bug in "model init", please report it\n${note}`);
  }
  plan.apply();
  const models = Object.keys(registry.models);
  console.error(`model-serving: created ${registryFile} (beside ${repository.display(repository.paths.fleetFile)}) with ${models.map((m) => `${m} ${registry.models[m].stages.production ?? registry.models[m].stages.staging}`).join(', ')}, promoted to ${stages.join(' and ')}`);
  console.error(`model-serving: in ${repository.display(repository.paths.fleetFile)}, moved models[].version to environments.<env>.versions (what "model-serving deploy" changes) and removed mar (the registry has it); ${repository.display(repository.paths.outdir)}/ is unchanged`);
}

function readRegistry(repository: ServingRepository): RegistryFile {
  return refusing(() => repository.requireRegistry(), `Nothing was changed; ${repository.display(repository.paths.registryFile)} is as it was.`);
}

function author(repository: ServingRepository): ChangeAuthor {
  // Git config is read where the registry lives, so that repository's user applies.
  return { actor: resolveActor(path.dirname(path.resolve(repository.paths.registryFile))), time: new Date() };
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

function stagingEnvironment(fleet: FleetConfig, fleetFile: string): string {
  const name = Object.keys(fleet.environments).sort().find((env) => fleet.environments[env].stage === RegistryStage.STAGING);
  if (name === undefined) throw new CliError(`${fleetFile} has no environment with stage: staging; pass --environment\nNothing was written.`);
  return name;
}

/** The bucket of a model's newest registered s3:// archive, else of its mar in the fleet file. */
function modelBucket(fleet: FleetConfig, registry: ModelRegistry | undefined, modelName: string): string | undefined {
  const registered = Object.entries(registry?.models[modelName]?.versions ?? {}).sort(([a], [b]) => compareVersions(b, a)).map(([, v]) => v.path);
  const candidates = [...registered, fleet.models.find((m) => m.name === modelName)?.mar].filter((uri): uri is string => uri !== undefined);
  for (const uri of candidates) {
    const archive = ModelArchive.fromUri(uri);
    if (archive.source === 's3') return archive.container;
  }
  return undefined;
}

function collectList(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(',').map((v) => v.trim()).filter((v) => v.length > 0)];
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows].map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n');
}
